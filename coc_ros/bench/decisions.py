"""`coc-ros bench decisions`: how often the LMulator's yes/no decisions are right on a tuning set of everyday
objects that appear in no benchmark scene (coc_ros/bench/data/decision_tuning.yaml).

It runs the product's own path (LMulator.simulate with the hints the engine sends for `if is_x(obj):`), one
group of objects as the peers a decision is calibrated over, so a number here is what a robot goal would get.
Prompt wording for decisions is tuned on this set, never on the robot tasks.
"""
from __future__ import annotations

import dataclasses
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from coc_ros.engine.lmulator import LMulator
from coc_ros.engine.lmulator_protocol import SimRequest
from coc_ros.llm.base import LLMClient


@dataclasses.dataclass
class DecisionRow:
    """One configuration's result: right/answered overall and per helper."""

    name: str
    right: int
    answered: int
    per_helper: dict[str, list[int]]  # helper -> [right, answered]
    seconds: float
    wrong: list[str]


def load_tuning_set(path: Path | None = None) -> list[dict[str, Any]]:
    text = (path.read_text(encoding="utf-8") if path else
            resources.files("coc_ros.bench").joinpath("data", "decision_tuning.yaml").read_text(encoding="utf-8"))
    groups = (yaml.safe_load(text) or {}).get("groups") or []
    for i, group in enumerate(groups):
        for helper, truths in group["questions"].items():
            if len(truths) != len(group["objects"]):
                raise ValueError(f"group {i}: {helper} has {len(truths)} answers for {len(group['objects'])} objects")
    return groups


def run_config(llm: LLMClient, groups: list[dict[str, Any]], name: str, *, calibrate: bool,
               describe: bool, both_prompts: bool = True) -> DecisionRow:
    """Every question of every group through one LMulator (descriptions are kept across groups, as in a node)."""
    lmulator = LMulator(llm)
    row = DecisionRow(name, 0, 0, {}, 0.0, [])
    start = time.monotonic()
    for g, group in enumerate(groups):
        objects = list(group["objects"])
        for helper, truths in group["questions"].items():
            for obj, truth in zip(objects, truths):
                hints = {"decision": "bool", "helper": helper, "args": [obj], "peers": objects,
                         "calibrate": calibrate, "describe": describe, "both_prompts": both_prompts}
                reply = lmulator.simulate(SimRequest(
                    run_id=f"{name}-{g}", question="", program="", line=1, source=f"if {helper}(obj):", kind="call",
                    expression=f"{helper}({obj!r})", state={}, hints=hints))
                if truth is None:
                    continue
                right = (reply.value == "True") == truth
                row.right += right
                row.answered += 1
                cell = row.per_helper.setdefault(helper, [0, 0])
                cell[0] += right
                cell[1] += 1
                if not right:
                    row.wrong.append(f"{helper}({obj!r}) -> {reply.value}")
    row.seconds = time.monotonic() - start
    return row


# name -> (calibrate, describe, both_prompts); both_prompts matters only with the description (the engine's default:
# the mean of the described and the bare question). "+one_prompt" is the described question alone.
CONFIGS = {"calibrated+described": (True, True, True), "calibrated+described+one_prompt": (True, True, False),
           "calibrated": (True, False, True), "raw+described": (False, True, True),
           "raw+described+one_prompt": (False, True, False), "raw": (False, False, True)}


def run_decisions_bench(llm: LLMClient, configs: list[str], out: Path) -> list[DecisionRow]:
    groups = load_tuning_set()
    rows = [run_config(llm, groups, name, calibrate=CONFIGS[name][0], describe=CONFIGS[name][1],
                       both_prompts=CONFIGS[name][2]) for name in configs]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": getattr(llm, "name", "?"), "rows": [dataclasses.asdict(r) for r in rows]},
                              indent=1))
    return rows
