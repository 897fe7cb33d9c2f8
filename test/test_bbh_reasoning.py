"""`coc-ros bench reasoning` is resumable and re-scorable: a killed run continues where it stopped without
re-running finished questions, results of another prompt version or model are never merged, and re-scoring the
written JSON reproduces its summary and the README table."""
from __future__ import annotations

import fcntl
import json

import pytest
from rich.console import Console

from coc_ros.bench import bbh, reasoning
from coc_ros.bench.reasoning import markdown_table, rescore, run_reasoning_bench
from coc_ros.llm.scripted import ScriptedLLM

TASK = "multistep_arithmetic_two"


class NamedScriptedLLM(ScriptedLLM):
    """Scripted replies that claim a model name, so the benchmark may resume their results."""

    model = "test-model"


def _replies(items, right: bool) -> list[str]:
    return [f"So the answer is {it.target if right else 0}." for it in items]


def _run(llm, tmp_path, **kw):
    return run_reasoning_bench(llm, modes=["direct"], tasks=[TASK], limit=3, seed=0, out=tmp_path / "out.json",
                               runs_dir=tmp_path / "journal", console=Console(file=open(tmp_path / "log", "a")),
                               **kw)


def test_killed_run_resumes_without_rerunning_finished_questions(tmp_path, monkeypatch):
    items = bbh.load_task(TASK, 3, seed=0)
    real_append = reasoning._append
    written = []

    def append_then_die(path, result):
        real_append(path, result)
        written.append(result)
        if len(written) == 2:
            raise KeyboardInterrupt  # the process is killed after two finished questions

    monkeypatch.setattr(reasoning, "_append", append_then_die)
    with pytest.raises(KeyboardInterrupt):
        _run(NamedScriptedLLM(_replies(items, right=True)), tmp_path)
    monkeypatch.setattr(reasoning, "_append", real_append)
    assert not (tmp_path / "out.json").exists()

    # The rerun gets only one reply: it must ask for the third question only.
    llm = NamedScriptedLLM(_replies(items, right=False)[2:])
    summary = _run(llm, tmp_path)
    assert llm.remaining == 0 and len(llm.calls) == 1
    data = json.loads((tmp_path / "out.json").read_text())
    assert [r["correct"] for r in data["results"]] == [True, True, False]
    assert summary["direct"]["accuracy"] == pytest.approx(66.7)
    assert data["meta"]["prompt_versions"][TASK] == bbh.prompt_version(TASK)
    assert data["meta"]["model_fingerprint"] == "scripted:test-model"
    assert all(r["program"] == "" for r in data["results"])  # direct mode runs no program


def test_timed_out_runs_are_retried(tmp_path):
    items = bbh.load_task(TASK, 3, seed=0)
    _run(NamedScriptedLLM(_replies(items, right=True)), tmp_path)
    (journal,) = (tmp_path / "journal").glob("*.jsonl")
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    rows[1].update(correct=False, success=False, error="timeout: the run exceeded its wall-clock limit of 300 s")
    journal.write_text("".join(json.dumps(r) + "\n" for r in rows))
    llm = NamedScriptedLLM(_replies(items, right=True)[1:2])
    summary = _run(llm, tmp_path)
    assert llm.remaining == 0 and len(llm.calls) == 1
    assert summary["direct"]["accuracy"] == 100.0


def test_other_prompt_version_or_model_is_never_merged(tmp_path, monkeypatch):
    items = bbh.load_task(TASK, 3, seed=0)
    _run(NamedScriptedLLM(_replies(items, right=True)), tmp_path)
    monkeypatch.setattr(bbh, "prompt_version", lambda task: "edited-prompts")
    llm = NamedScriptedLLM(_replies(items, right=False))
    _run(llm, tmp_path)
    assert llm.remaining == 0, "every question must be re-run under a new prompt version"
    other = ScriptedLLM(_replies(items, right=False))  # names no model: never resumed
    _run(other, tmp_path)
    assert other.remaining == 0


def test_a_second_concurrent_run_of_the_same_model_is_refused(tmp_path):
    items = bbh.load_task(TASK, 3, seed=0)
    _run(NamedScriptedLLM(_replies(items, right=True)), tmp_path)
    (lock,) = (tmp_path / "journal").glob("*.lock")
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # another process is running the benchmark for this model
        with pytest.raises(RuntimeError, match="another benchmark run"):
            _run(NamedScriptedLLM([]), tmp_path)


def test_rescoring_the_json_reproduces_the_table(tmp_path):
    items = bbh.load_task(TASK, 3, seed=0)
    summary = _run(NamedScriptedLLM(_replies(items, right=True)[:2] + ["I think 12"]), tmp_path)
    out = tmp_path / "out.json"
    console = Console(file=open(tmp_path / "rescore.log", "w"), width=200)
    assert rescore(out, console) == summary
    data = json.loads(out.read_text())
    data["results"][0]["correct"] = False  # a verdict the scorer does not agree with
    out.write_text(json.dumps(data))
    assert rescore(out, console)["direct"]["accuracy"] == summary["direct"]["accuracy"]
    text = (tmp_path / "rescore.log").read_text()
    assert "verdicts changed: 0" in text and "verdicts changed: 1" in text
    table = markdown_table(summary, ["direct"], [TASK])
    assert f"| {TASK} (algorithmic) | 66.7 | ? |" in table
    assert "| **overall (mean over tasks)** | **66.7** | 55 |" in table


def test_summary_averages_over_bbh_tasks_and_its_split():
    rows = [reasoning.ItemResult(task=t, item_id=f"{t}/1", mode="cot", correct=ok, prediction="", target="",
                                 choices=None, success=True, lm_calls=1, tokens=1, seconds=1.0, error="",
                                 prompt_version="v", question_sha="q")
            for t, ok in [("logical_deduction_three_objects", True), ("logical_deduction_five_objects", False),
                          ("snarks", True), ("snarks", True)]]
    tasks = ["logical_deduction_three_objects", "logical_deduction_five_objects", "snarks"]
    s = reasoning.summarize(rows, ["cot"], tasks)["cot"]
    assert s["per_family"] == {"logical_deduction": 50.0, "snarks": 100.0}
    assert s["accuracy"] == 75.0 and s["algorithmic"] == 50.0 and s["nlp"] == 100.0
    assert s["per_question"] == 75.0


def test_cli_rescore_prints_the_readme_table(tmp_path):
    from typer.testing import CliRunner

    from coc_ros.cli import app

    items = bbh.load_task(TASK, 3, seed=0)
    _run(NamedScriptedLLM(_replies(items, right=True)), tmp_path)
    result = CliRunner().invoke(app, ["bench", "reasoning", "--rescore", str(tmp_path / "out.json")])
    assert result.exit_code == 0, result.output
    assert f"| {TASK} (algorithmic) | 100.0 | ? |" in result.output and "verdicts changed: 0" in result.output
    bad = CliRunner().invoke(app, ["bench", "reasoning", "--tasks", "no_such_task"])
    assert bad.exit_code == 2


def test_coc_runs_keep_their_program(tmp_path):
    item = bbh.load_task(TASK, 1, seed=0)[0]
    program = f"answer = {item.question.rstrip(' =')}"
    run_reasoning_bench(NamedScriptedLLM([f"```python\n{program}\n```"]), modes=["coc-interweave"], tasks=[TASK],
                        limit=1, seed=0, out=tmp_path / "out.json", runs_dir=tmp_path / "journal",
                        console=Console(file=open(tmp_path / "log", "a")))
    (row,) = json.loads((tmp_path / "out.json").read_text())["results"]
    assert row["correct"] and row["program"].strip() == program and row["prediction"] == int(item.target)
