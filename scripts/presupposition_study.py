"""Are the intent failures the decisions' fault? (README, thirteenth session, "Presupposition".)

A robot goal ends in the intent error when the instruction asks the robot to act and the program moved nothing,
also after one re-prompt. Every such program on record has its pick_place under tests that no object passed. If the
model's log-odds were merely too low, splitting the first yes/no helper's log-odds at their widest gap (presupposing
that the instruction's "put the X away" has at least one X) would pick the objects the task wants moved. This
replays that split on the recorded log-odds of every distinct (task, seed, code) run that ended in the intent error,
and counts the runs where the top group is exactly right: every object that must move is in it, and nothing that
must stay. No model is asked. Arguments that are not .json files name splits to leave out (unseen ones: their
task names would be printed).

    .venv/bin/python scripts/presupposition_study.py docs/results/bench_robot.json \\
        docs/results/bench_robot_dev_seed0_r27.json docs/results/bench_robot_barn_seed0_r27_final.json yard
"""
from __future__ import annotations

import json
import sys
from typing import Any

from coc_ros.bench.robot_tasks import load_tasks
from coc_ros.sim.scene import load_scene

INTENT_ERROR = "the instruction asks"


def widest_gap_top(logodds: dict[str, float]) -> tuple[set[str], float]:
    """The objects above the midpoint of the widest gap between sorted log-odds, and that gap."""
    values = sorted(logodds.values(), reverse=True)
    gap, i = max((values[k] - values[k + 1], k) for k in range(len(values) - 1))
    cut = (values[i] + values[i + 1]) / 2
    return {obj for obj, value in logodds.items() if value > cut}, gap


def first_helper(record: dict[str, Any]) -> tuple[str, dict[str, float]] | None:
    """The first yes/no helper the run asked, with its final log-odds per object."""
    groups: dict[str, dict[str, float]] = {}
    for call in record.get("decisions") or []:
        if call.get("decision") == "bool" and "logodds" in call and call.get("args"):
            groups.setdefault(call["helper"], {})[str(call["args"][0])] = float(call["logodds"])
    return next(iter(groups.items()), None)


def main(args: list[str]) -> None:
    paths = [a for a in args if a.endswith(".json")]
    left_out = {a for a in args if not a.endswith(".json")}
    tasks = {t.name: t for t in load_tasks("all")}
    seen: set[tuple[str, str, str]] = set()
    right = total = without = 0
    for path in paths:
        for record in json.load(open(path))["results"]:
            key = (record["task"], str(record["seed"]), str(record.get("code")))
            if (record["mode"] != "coc-interweave" or key in seen or record.get("split") in left_out
                    or not str(record.get("error", "")).startswith(INTENT_ERROR)):
                continue
            seen.add(key)
            task = tasks[record["task"]]
            allowed = task.expected(load_scene(task.scene))
            must_move = {obj for obj, places in allowed.items() if "table" not in places}
            may_move = {obj for obj, places in allowed.items() if places - {"table"}}
            asked = first_helper(record)
            if asked is None or len(asked[1]) < 2:
                without += 1
                continue
            helper, logodds = asked
            top, gap = widest_gap_top(logodds)
            ok = must_move <= top <= may_move
            total += 1
            right += ok
            print(f"{record['task']:45s} {helper:28s} gap {gap:4.2f}  top {len(top)}  must move {len(must_move)}  "
                  f"{'right' if ok else 'wrong'}")
    print(f"top group exactly right: {right} of {total} runs ({without} more asked no yes/no helper of 2+ objects)")


if __name__ == "__main__":
    main(sys.argv[1:])
