"""Which yes/no calibration survives scenes where most objects have the attribute? (README, "Calibration").

Step 1 (`collect`, ~5 min alone on 2 cores with the local model): the raw Yes-vs-No log-odds of every question of
the decision tuning set (coc_ros/bench/data/decision_tuning.yaml: objects in no benchmark scene), with and without
the object's description, plus the log-odds of content-free inputs ('N/A', 'object', 'something', 'item') per
helper. Step 2 (`analyze`, instant): every subset of 4..8 objects of a group is a simulated scene; each
calibration decides its questions, and accuracy is reported overall and by the scene's share of positives
(lo <= 25 %, hi >= 60 %).

    .venv/bin/python scripts/calibration_study.py collect runs/calibration_study.json
    .venv/bin/python scripts/calibration_study.py analyze runs/calibration_study.json
"""
from __future__ import annotations

import itertools
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

CONTENT_FREE = ["N/A", "object", "something", "item"]


def collect(out: Path) -> None:
    from coc_ros.bench.decisions import load_tuning_set
    from coc_ros.engine.lmulator import LMulator
    from coc_ros.engine.prompts import yes_no_messages
    from coc_ros.llm.factory import make_llm

    llm = make_llm("local")
    lmulator = LMulator(llm)

    def logodds(helper: str, obj: str, fact: str) -> float:
        scores = llm.score_options(yes_no_messages("", helper, [obj], fact), ["Yes", "No"])
        return scores["Yes"] - scores["No"]

    data: dict = {"groups": [], "content_free": {}}
    for group in load_tuning_set():
        objects = group["objects"]
        questions = {}
        for helper, truths in group["questions"].items():
            questions[helper] = [{"obj": o, "truth": t, "plain": logodds(helper, o, ""),
                                  "desc": logodds(helper, o, lmulator._fact({"peers": objects}, o))}
                                 for o, t in zip(objects, truths)]
            if helper not in data["content_free"]:
                data["content_free"][helper] = statistics.mean(logodds(helper, c, "") for c in CONTENT_FREE)
        data["groups"].append(questions)
    out.write_text(json.dumps(data, indent=1))


def calibrations(cf: float) -> dict[str, Callable[[list[float]], list[float]]]:
    """Each maps a scene's raw log-odds to calibrated ones; > 0 means Yes."""
    from coc_ros.engine.lmulator import debiased

    return {
        "raw": lambda v: v,
        "centre if mean > 0 (shipped before)": lambda v: [x - max(0.0, statistics.mean(v)) for x in v],
        "widest gap if mean > 0 (shipped)": lambda v: [debiased(x, v) for x in v],
        "centre always": lambda v: [x - statistics.mean(v) for x in v],
        "half the positive mean": lambda v: [x - 0.5 * max(0.0, statistics.mean(v)) for x in v],
        "content-free": lambda v: [x - cf for x in v],
        "min(positive mean, content-free)": lambda v: [x - max(0.0, min(statistics.mean(v), cf)) for x in v],
        "centre only if every object gets Yes": lambda v: [x - (statistics.mean(v) if min(v) > 0 else 0.0) for x in v],
    }


def analyze(path: Path) -> None:
    data = json.loads(path.read_text())
    for key in ("desc", "plain"):
        tally: dict[tuple[str, str], list[int]] = {}
        for questions in data["groups"]:
            for helper, rows in questions.items():
                for k in range(4, len(rows) + 1):
                    for scene in itertools.combinations(rows, k):
                        scored = [r for r in scene if r["truth"] is not None]
                        if not scored:
                            continue
                        share = sum(r["truth"] for r in scored) / len(scored)
                        bucket = "hi" if share >= 0.6 else "lo" if share <= 0.25 else "mid"
                        for name, fn in calibrations(data["content_free"][helper]).items():
                            values = fn([r[key] for r in scene])
                            right = sum((v > 0) == r["truth"] for v, r in zip(values, scene) if r["truth"] is not None)
                            for b in ("all", bucket):
                                cell = tally.setdefault((name, b), [0, 0])
                                cell[0] += right
                                cell[1] += len(scored)
        print(f"log-odds {'with' if key == 'desc' else 'without'} the description")
        for name in calibrations(0.0):
            print(f"  {name:38}" + "  ".join(f"{b} {tally[(name, b)][0] / tally[(name, b)][1]:.3f}"
                                              for b in ("all", "lo", "mid", "hi") if (name, b) in tally))


if __name__ == "__main__":
    {"collect": collect, "analyze": analyze}[sys.argv[1]](Path(sys.argv[2]))
