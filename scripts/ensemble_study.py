"""Would a yes/no helper be decided better from two prompts at once: with the object's description in front and
without it? (README, "Decisions from two prompts at once"; it led to the technique both_prompts.)

The describe ablation showed the two prompts err on different objects: on the dev split, switching the description
off fixed 6 tasks and broke 5. Averaging the two log-odds before calibration could keep what each gets right. This
replays the yes/no groups the robot benchmark recorded: every distinct (scene, helper) group of coc-interweave records
that asked about all of the scene's objects and maps to a scorer-only attribute (as `calibration_study.py replay`).
The recorded raw log-odds are the with-description prompt; the model is asked the same question without the
description here. Each way is calibrated as shipped (`debiased`) and scored per object against the scene. The
output file keeps every group's log-odds; run again on it, the script asks the model nothing and prints the table.

    .venv/bin/python scripts/ensemble_study.py docs/results docs/results/ensemble_study.json barn   # barn: unseen
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from calibration_study import recorded_groups
from coc_ros.engine.lmulator import debiased
from coc_ros.engine.prompts import yes_no_messages
from coc_ros.llm.factory import make_llm


def groups_of(results: Path, left_out: set[str]) -> dict[tuple[str, str], dict]:
    """(scene, helper) -> objects, recorded with-description raw log-odds and truths (first record wins); records
    of the splits left out (unseen ones) are not read."""
    groups: dict[tuple[str, str], dict] = {}
    for r, helper, objects, by_object, truths in recorded_groups(results):
        if r.get("split") in left_out:
            continue
        groups.setdefault((r["scene"], helper), {"split": r.get("split"), "objects": objects,
                                                 "desc": [by_object[o] for o in objects], "truth": truths})
    return groups


def main(results: Path, out: Path, left_out: set[str]) -> None:
    llm = make_llm("local")
    groups = groups_of(results, left_out)
    done = json.loads(out.read_text()) if out.exists() else {}
    started = time.time()
    for (scene, helper), g in groups.items():
        key = f"{scene}|{helper}"
        if key not in done:
            g["plain"] = []
            for o in g["objects"]:
                s = llm.score_options(yes_no_messages("", helper, [o], ""), ["Yes", "No"])
                g["plain"].append(s["Yes"] - s["No"])
            done[key] = g
            out.write_text(json.dumps(done))
    print(f"{len(done)} groups, {time.time() - started:.0f} s")
    ways = {"with description": lambda g: g["desc"], "without": lambda g: g["plain"],
            "mean of both (shipped)": lambda g: [(a + b) / 2 for a, b in zip(g["desc"], g["plain"])]}
    for name, fn in ways.items():
        right = scored = all_right = 0
        for g in done.values():
            v = fn(g)
            cal = [debiased(x, v) for x in v]
            hits = [(c > 0) == t for c, t in zip(cal, g["truth"]) if t is not None]
            right += sum(hits)
            scored += len(hits)
            all_right += all(hits)
        print(f"  {name:28} {right}/{scored} = {right / scored:.3f}   groups all right {all_right}/{len(done)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), set(sys.argv[3].split(",")) if len(sys.argv) > 3 else set())
