"""`coc-ros bench latency`'s measurement through the real nodes (fake arm, scripted LLM): every milestone is
found, in the order a goal passes them, and each goal's LM calls come from its own live trace.

Run: .venv/bin/python -m pytest -q test/test_ros_latency.py
"""
from __future__ import annotations

import json

import pytest
from rich.console import Console

from coc_ros.bench.latency import MILESTONES, Setup, run_latency
from ros_harness import program_reply

pytestmark = pytest.mark.timeout(180)


def test_cold_and_warm_goal_milestones_in_order(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps([
        program_reply("if is_wanted('red_cube'):\n    pick_place('red_cube', 'box')\nanswer = 'done'"), "True",
        program_reply("if is_wanted('apple'):\n    pick_place('apple', 'box')\nelse:\n"
                      "    pick_place('green_cube', 'bowl')\nanswer = 'done'"), "False",
    ]))
    report = run_latency(Setup(llm=f"scripted:{script}", backend="fake", goals=2), out=tmp_path / "latency.json",
                         logs=tmp_path / "logs", console=Console(width=120))
    assert [g["goal"] for g in report["goals"]] == ["cold", "warm 1"]
    for goal, expression in zip(report["goals"], ("is_wanted('red_cube')", "is_wanted('apple')")):
        assert goal["success"], goal["error"]
        times = [goal[m] for m in MILESTONES]
        assert all(t is not None and t >= 0 for t in times), goal
        assert goal["accepted"] <= goal["first_feedback"] <= goal["result"]
        assert goal["program"] <= goal["first_motion"] <= goal["result"]
        assert [c["call"] for c in goal["lm_calls"]] == ["program", expression]
    assert json.loads((tmp_path / "latency.json").read_text())["goals"][1]["goal"] == "warm 1"


def test_acceptance_is_the_first_sign_of_it_and_a_late_response_never_moves_it_later():
    from coc_ros.ros.goal_client import GoalTimes

    times = GoalTimes(sent=0.0)
    times.saw_accepted(0.22)  # first feedback, seen before the goal response
    times.saw_accepted(2.17)  # the response, late under load
    assert times.accepted == 0.22
    times.saw_accepted(0.1)  # the status listing the goal, seen earlier still
    assert times.accepted == 0.1
