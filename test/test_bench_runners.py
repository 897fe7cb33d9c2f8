"""The benchmark runners score what really happened: the robot bench by the simulator's final world state, the
reasoning bench by BBH's targets. Scripted LMs make the outcome known in advance."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from coc_ros.bench import bbh
from coc_ros.bench.reasoning import run_reasoning_bench
from coc_ros.bench.robot import Row, code_version, run_robot_bench
from coc_ros.bench.robot_tasks import get_task
from coc_ros.llm.scripted import ScriptedLLM


def test_robot_bench_scores_by_final_world_state(tmp_path):
    task = get_task("recycle_bottle")
    program = ("```python\nfor obj in detect_objects():\n    if is_bottle(obj):\n"
               "        pick_place(obj, 'recycling_bin')\nanswer = 'ok'\n```")
    # coc-interweave: the right program, whose is_bottle the camera answers (its label); direct: the LM moves the
    # wrong object.
    llm = ScriptedLLM([program, "[('soda_can', 'recycling_bin')]"])
    out = tmp_path / "robot.json"
    summary = run_robot_bench(llm, tasks=[task], rows=[Row("coc-interweave"), Row("direct")], seeds=1, out=out)
    data = json.loads(out.read_text())
    by_mode = {r["mode"]: r for r in data["results"]}
    interweave = by_mode["coc-interweave"]
    assert interweave["success"] and interweave["world"]["plastic_bottle"] == "recycling_bin"
    assert not by_mode["direct"]["success"] and by_mode["direct"]["world"]["soda_can"] == "recycling_bin"
    assert summary["dev"]["coc-interweave"]["success_rate"] == 100.0 and summary["dev"]["direct"]["success_rate"] == 0.0
    assert {r["task"] for r in data["results"]} == {"recycle_bottle"} and data["results"][0]["model"] == "scripted"
    assert {r["code"] for r in data["results"]} == {code_version()}
    assert (tmp_path / "robot_contact_sheet.png").stat().st_size > 1000
    # resumable: a rerun finds every record done and calls no model (the script is used up)
    again = run_robot_bench(ScriptedLLM([]), tasks=[task], rows=[Row("coc-interweave"), Row("direct")], seeds=1,
                            out=out)
    assert again == summary and len(json.loads(out.read_text())["results"]) == 2


def test_code_version_names_the_checkout_or_the_installed_package(monkeypatch):
    """A record says which code ran it: in this git checkout the current commit (plus '-dirty' when files differ),
    and the installed version where git cannot answer."""
    import re
    import subprocess

    from coc_ros.bench import robot

    head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], capture_output=True, text=True,
                          cwd=Path(robot.__file__).resolve().parents[2]).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{7,}(-dirty)?", code_version()) and code_version().startswith(head)

    def no_git(*args, **kwargs):
        raise OSError("git: not found")

    monkeypatch.setattr(robot.subprocess, "run", no_git)
    assert code_version().startswith("coc_ros ")


def test_reasoning_bench_scores_against_bbh_targets(tmp_path):
    items = bbh.load_task("multistep_arithmetic_two", 2, seed=0)
    expression = items[0].question.rstrip(" =")
    right = f"```python\nanswer = {expression}\n```"
    wrong = "```python\nanswer = 123456789\n```"
    llm = ScriptedLLM([right, "So the answer is 0.", wrong, "So the answer is 0."])
    out = tmp_path / "reasoning.json"
    summary = run_reasoning_bench(llm, modes=["coc-interweave", "direct"], tasks=["multistep_arithmetic_two"],
                                  limit=2, seed=0, out=out, runs_dir=tmp_path / "journal")
    results = json.loads(out.read_text())["results"]
    assert [r["correct"] for r in results if r["mode"] == "coc-interweave"] == [True, False]
    assert summary["coc-interweave"]["accuracy"] == 50.0
    assert summary["direct"]["n"] == 2


def test_decisions_bench_scores_the_lmulators_answers_against_the_tuning_set(tmp_path):
    from coc_ros.bench.decisions import load_tuning_set, run_config
    from coc_ros.engine.prompts import helper_question
    from coc_ros.llm.scripted import ScriptedLLM

    shipped = load_tuning_set()
    assert sum(t is not None for g in shipped for ts in g["questions"].values() for t in ts) == 296
    groups = [{"objects": ["rock", "pear", "plum", "nail"], "questions": {"is_fruit": [False, True, None, True]}}]
    scores = {helper_question("is_fruit", [o]): {"Yes": lo, "No": 0.0}
              for o, lo in {"rock": -2.0, "pear": 1.0, "plum": 0.5, "nail": -1.0}.items()}
    row = run_config(ScriptedLLM([], scores), groups, "raw", calibrate=False, describe=False)
    assert (row.right, row.answered) == (2, 3)  # plum is not scored; nail is wrong
    assert row.wrong == ["is_fruit('nail') -> False"] and row.per_helper == {"is_fruit": [2, 3]}
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups:\n- objects: [a, b]\n  questions: {is_x: [true]}\n")
    with pytest.raises(ValueError, match="1 answers for 2 objects"):
        load_tuning_set(bad)


def test_decisions_bench_configs_switch_the_techniques_the_engine_switches(monkeypatch, tmp_path):
    """Each configuration reaches the LMulator as the hints the engine sends: '+one_prompt' is the described
    question alone (both_prompts off), the others the engine's default."""
    from coc_ros.bench import decisions
    from coc_ros.engine.lmulator import LMulator
    from coc_ros.engine.lmulator_protocol import SimReply

    seen: list[tuple[bool, bool, bool]] = []

    def simulate(self, request):
        h = request.hints
        seen.append((h["calibrate"], h["describe"], h["both_prompts"]))
        return SimReply(value="True")

    monkeypatch.setattr(LMulator, "simulate", simulate)
    monkeypatch.setattr(decisions, "load_tuning_set", lambda: [{"objects": ["a"], "questions": {"is_x": [True]}}])
    decisions.run_decisions_bench(object(), ["calibrated+described", "calibrated+described+one_prompt", "raw"],
                                  tmp_path / "out.json")
    assert seen == [(True, True, True), (True, True, False), (False, False, True)]


def test_oracle_decisions_row_answers_yes_no_from_the_scene_and_delegates_the_rest():
    from coc_ros.bench.robot_tasks import OracleDecisions
    from coc_ros.engine.lmulator_protocol import SimReply, SimRequest
    from coc_ros.sim.scene import load_scene

    class Inner:
        def __init__(self):
            self.asked = []

        def simulate(self, request):
            self.asked.append(request.expression)
            return SimReply(value="'from the model'")

    def ask(helper, obj, decision="bool"):
        return SimRequest(run_id="r", question="q", program="", line=1, source="", kind="call",
                          expression=f"{helper}({obj!r})", state={},
                          hints={"decision": decision, "helper": helper, "args": [obj]})

    inner = Inner()
    oracle = OracleDecisions(inner, load_scene("sort"))
    assert oracle.simulate(ask("is_recyclable", "soda_can")).value == "True"
    assert oracle.simulate(ask("is_compostable", "soda_can")).value == "False"
    assert oracle.simulate(ask("is_compostable", "soda_can")).detail["oracle"] is True
    # no scene attribute behind the helper, not an object of the scene, or not a yes/no use: the model decides
    assert oracle.simulate(ask("is_shiny", "soda_can")).value == "'from the model'"
    assert oracle.simulate(ask("is_recyclable", "moon_rock")).value == "'from the model'"
    assert oracle.simulate(ask("is_recyclable", "soda_can", decision="free")).value == "'from the model'"
    assert len(inner.asked) == 3
    row = Row.parse("coc-interweave +oracle_decisions")
    assert row.oracle_decisions and row.name == "coc-interweave +oracle_decisions" and not row.ablation
    with pytest.raises(ValueError):
        Row.parse("direct +oracle_decisions")
