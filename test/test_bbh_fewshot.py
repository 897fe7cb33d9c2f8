"""Every Chain of Code exemplar program of every BBH task runs in the real engine (sandboxed interpreter, coc-
interweave) and reaches BBH's target, when the LMulator gives the values its data file says the LM should give.

The programs are data (coc_ros/bench/data/coc_fewshot/<task>.yaml); this test is what keeps them honest: a
program that uses a forbidden import, calls a helper the file does not list, or computes a wrong answer fails.
The questions and targets come from lm-eval's BBH yaml (fetched from PyPI on first use, then cached).
"""
from __future__ import annotations

import ast
import builtins
from typing import Any

import pytest

from coc_ros.bench import bbh
from coc_ros.bench.bbh import prompts
from coc_ros.engine.lmulator_protocol import SimReply, SimRequest
from coc_ros.engine.runner import Engine
from coc_ros.llm.scripted import ScriptedLLM


class ExpectedLMulator:
    """Answers each helper call with the value the shot's data file lists for it; an unlisted call fails."""

    def __init__(self, answers: dict[str, Any]):
        self.answers = answers
        self.asked: list[str] = []

    def simulate(self, request: SimRequest) -> SimReply:
        assert request.kind == "call", f"unexpected LMulator request {request.kind}: {request.source}"
        self.asked.append(request.expression)
        assert request.expression in self.answers, f"no expected value for {request.expression}"
        return SimReply(value=repr(self.answers[request.expression]))


@pytest.fixture(scope="module", autouse=True)
def sources():
    return bbh.fetch_sources()


def _calls_undefined_helpers(program: str) -> bool:
    """Whether the program calls a function it neither defines, imports nor gets from Python's builtins."""
    tree = ast.parse(program)
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    defined |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return bool(called - defined - set(dir(builtins)))


def _first_variant(family: str) -> str:
    return next(t for t in bbh.TASKS if bbh.family(t) == family)


@pytest.mark.parametrize("family", bbh.FAMILIES)
def test_every_exemplar_program_reaches_the_bbh_target(family):
    task = _first_variant(family)
    shots = prompts.coc_shots(task)
    exemplars = bbh.fewshot_examples(task)
    assert len(shots) == len(exemplars) == 3
    fewshot = bbh.fewshot(task)
    for shot, (question, _, target) in zip(shots, exemplars):
        lmulator = ExpectedLMulator(shot.lmulator)
        engine = Engine(ScriptedLLM([f"```python\n{shot.program}```"]), simulator=lmulator)
        run = engine.run(question, "coc-interweave", fewshot=fewshot)
        assert run.success, (family, run.error)
        assert run.answer == target, (family, run.answer, target)
        assert bbh.score(task, run.answer, bbh.Item(task, "shot", question, target, None))
        assert set(lmulator.asked) == set(shot.lmulator), f"{family}: listed helper values never asked for"


def test_all_variants_share_their_family_programs():
    for task in bbh.TASKS:
        examples = bbh.coc_examples(task)
        assert [q for q, _ in examples] == [q for q, _, _ in bbh.fewshot_examples(task)]
        assert [p for _, p in examples] == [s.program for s in prompts.coc_shots(_first_variant(bbh.family(task)))]


def test_helpers_are_used_where_knowledge_is_needed_and_only_there():
    """The paper's split: real code for what can be computed, an undefined helper for what needs knowledge."""
    knowledge = {"object_counting", "date_understanding", "sports_understanding", "causal_judgement",
                 "disambiguation_qa", "hyperbaton", "movie_recommendation", "ruin_names",
                 "salient_translation_error_detection", "snarks"}
    for family in bbh.FAMILIES:
        shots = prompts.coc_shots(_first_variant(family))
        uses = any(s.lmulator for s in shots)
        assert uses == (family in knowledge), family
        assert all(_calls_undefined_helpers(s.program) == bool(s.lmulator) for s in shots), family


def test_fewshot_bundles_every_mode_and_versions_change_with_content(monkeypatch):
    fs = bbh.fewshot("hyperbaton")
    assert len(fs.coc_examples) == 3 and "So the answer is" in fs.cot_prompt and fs.direct_prompt
    version = bbh.prompt_version("hyperbaton")
    assert version == bbh.prompt_version("hyperbaton") != bbh.prompt_version("snarks")
    edited = prompts.CocShot(program="answer = '(A)'\n", lmulator={})
    monkeypatch.setattr(prompts, "coc_shots", lambda task: (edited,) * 3)
    assert bbh.prompt_version("hyperbaton") != version


def test_missing_program_file_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(prompts, "family", lambda task: "no_such_family")
    prompts.coc_shots.cache_clear()
    try:
        with pytest.raises(KeyError, match="no_such_family.yaml"):
            prompts.coc_shots("hyperbaton")
    finally:
        prompts.coc_shots.cache_clear()
