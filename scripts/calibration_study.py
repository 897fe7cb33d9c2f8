"""Which yes/no calibration survives scenes where most objects have the attribute? (README, "Calibration").

Step 1 (`collect`, ~5 min alone on 2 cores with the local model): the raw Yes-vs-No log-odds of every question of
the decision tuning set (coc_ros/bench/data/decision_tuning.yaml: objects in no benchmark scene), with and without
the object's description, plus the log-odds of content-free inputs ('N/A', 'object', 'something', 'item') per
helper. Step 2 (`analyze`, instant): every subset of 4..8 objects of a group is a simulated scene; each calibration
decides its questions from the log-odds with the description, without it, and the mean of both, and accuracy is
reported overall and by the scene's share of positives (lo <= 25 %, hi >= 60 %). `replay` (instant) decides the
yes/no questions the robot benchmark recorded instead: every distinct (scene, helper, raw log-odds) group in the
committed records that asked about all of the scene's objects, scored against the scene's scorer-only attributes
(calibrations that need content-free scores are left out: the records have none).

    .venv/bin/python scripts/calibration_study.py collect runs/calibration_study.json
    .venv/bin/python scripts/calibration_study.py analyze runs/calibration_study.json
    .venv/bin/python scripts/calibration_study.py replay docs/results
"""
from __future__ import annotations

import itertools
import json
import statistics
import sys
from collections.abc import Callable, Iterator
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
    for questions in data["groups"]:
        for rows in questions.values():
            for r in rows:
                r["mean"] = (r["desc"] + r["plain"]) / 2  # the two prompts together (technique both_prompts)
    for key in ("desc", "plain", "mean"):
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
        print({"desc": "log-odds with the description", "plain": "log-odds without the description",
               "mean": "the mean of both"}[key])
        for name in calibrations(0.0):
            print(f"  {name:38}" + "  ".join(f"{b} {tally[(name, b)][0] / tally[(name, b)][1]:.3f}"
                                              for b in ("all", "lo", "mid", "hi") if (name, b) in tally))


def recorded_groups(results: Path) -> Iterator[tuple[dict, str, list[str], dict[str, float], list[bool | None]]]:
    """(record, helper, the scene's objects, raw log-odds by object, truths) for every yes/no helper a
    coc-interweave record of the robot benchmark asked about all of its scene's objects, where the helper maps to a
    scorer-only attribute (ablation and oracle rows decide otherwise or not at all)."""
    from coc_ros.bench.robot_decisions import attribute_of, scene_attributes, truth
    from coc_ros.sim.scene import load_scene

    for path in sorted(results.glob("bench_robot*.json")):
        records = json.loads(path.read_text()).get("results")
        for r in records if isinstance(records, list) else []:
            if r.get("mode") != "coc-interweave":
                continue
            scene = load_scene(r["scene"])
            objects = [o.name for o in scene.objects]
            asked: dict[str, dict[str, float]] = {}
            for d in r.get("decisions") or []:
                args = d.get("args") or []
                if d.get("decision") == "bool" and isinstance(d.get("raw_logodds"), float) and len(args) == 1:
                    asked.setdefault(d["helper"], {})[args[0]] = d["raw_logodds"]
            for helper, by_object in asked.items():
                attr = attribute_of(helper, scene_attributes(scene))
                if attr is not None and set(by_object) == set(objects):
                    yield r, helper, objects, by_object, [truth(scene, o, attr) for o in objects]


def replay(results: Path) -> None:
    groups: dict[tuple, list[tuple[float, bool | None]]] = {}
    for r, helper, objects, by_object, truths in recorded_groups(results):
        key = (r["scene"], helper, tuple(round(by_object[o], 2) for o in objects))
        groups[key] = [(by_object[o], t) for o, t in zip(objects, truths)]
    print(f"{len(groups)} distinct scene x helper groups from the robot records")
    for name, fn in calibrations(float("nan")).items():
        if "content-free" in name:
            continue
        right = scored = 0
        for rows in groups.values():
            values = fn([v for v, _ in rows])
            right += sum((v > 0) == t for v, (_, t) in zip(values, rows) if t is not None)
            scored += sum(t is not None for _, t in rows)
        print(f"  {name:38} {right}/{scored} = {right / scored:.3f}")


if __name__ == "__main__":
    {"collect": collect, "analyze": analyze, "replay": replay}[sys.argv[1]](Path(sys.argv[2]))
