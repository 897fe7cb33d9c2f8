"""Reranking drawn programs by how well each explains the instruction (technique `rerank`), with a scripted model.

The script lists the greedy program as a reply, the drawn programs as samples, and the reviewer's log-probability
of the instruction under each program as scores keyed by the reviewer prompt, so each test states exactly what the
model "believes" and checks which program the engine runs.
"""
from __future__ import annotations

import pytest

from conftest import fenced
from coc_ros.core.program import without_comments
from coc_ros.core.types import Limits, Mode
from coc_ros.engine.prompts import review_messages
from coc_ros.engine.runner import RERANK_SAMPLES, Engine
from coc_ros.engine.techniques import Techniques
from coc_ros.llm.base import ReplyScorer, Sampler, ScoresUnavailable, supports
from coc_ros.llm.caching import CachingLLM
from coc_ros.llm.scripted import ScriptedLLM
from coc_ros.robot.api import RobotAPI
from coc_ros.robot.fake_backend import FakeSkillBackend

INSTRUCTION = "Put the bread in the box."
BREAD = "for obj in detect_objects():\n    if obj == 'bread':\n        pick_place(obj, 'box')\nanswer = 'done'\n"
HAM = "for obj in detect_objects():\n    if obj == 'ham':\n        pick_place(obj, 'box')\nanswer = 'done'\n"
APPLE = "pick_place('apple', 'box')\nanswer = 'done'\n"


def reviewed(logprobs: dict[str, float], instruction: str = INSTRUCTION) -> dict[str, dict[str, float]]:
    """Scripted scores: log p(instruction | program) for each program under the reviewer prompt."""
    return {review_messages(p)[-1]["content"]: {instruction: lp} for p, lp in logprobs.items()}


def run(greedy: str, samples: list[str] | None, scores: dict, *, mode: Mode = Mode.COC_INTERWEAVE,
        techniques: Techniques | None = None):
    llm = ScriptedLLM([fenced(greedy)], scores, samples=None if samples is None else [fenced(s) for s in samples])
    backend = FakeSkillBackend(objects={"ham": "table", "bread": "table", "apple": "table"}, containers=("box",),
                               motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=techniques or Techniques(intent_check=False, rerank=True))
    return engine.run(INSTRUCTION, mode), backend, llm


def test_the_program_that_best_explains_the_instruction_is_run():
    result, backend, _ = run(HAM, [BREAD, APPLE], reviewed({HAM: -30.0, BREAD: -12.0, APPLE: -25.0}))
    assert result.success, result.error
    assert backend.world_state()["bread"] == "box" and backend.world_state()["ham"] == "table"
    assert result.program == BREAD
    event = next(e for e in result.trace if e.kind == "rerank")
    assert event.detail["chosen"] == 1
    assert [c["review_logprob"] for c in event.detail["candidates"]] == [-30.0, -12.0, -25.0]
    assert event.source == BREAD
    assert result.lm_calls == 1 + RERANK_SAMPLES + 3  # greedy, two draws, three reviews


def test_the_greedy_program_wins_a_tie_and_copies_are_reviewed_once():
    # The second draw differs from the first only by a comment: the same program, reviewed once.
    result, backend, llm = run(BREAD, [HAM, "# the ham\n" + HAM], reviewed({BREAD: -10.0, HAM: -10.0}))
    assert result.success and result.program == BREAD
    assert backend.world_state()["bread"] == "box"
    reviews = [c for c in llm.calls if c[0]["content"] == review_messages(BREAD)[0]["content"]]
    assert len(reviews) == 2


def test_draws_all_equal_to_the_greedy_program_need_no_review():
    result, _, llm = run(BREAD, [BREAD, BREAD], {})  # no reviewer scores: asking for one would fail the run
    assert result.success, result.error
    event = next(e for e in result.trace if e.kind == "rerank")
    assert event.detail["chosen"] == 0 and len(event.detail["candidates"]) == 1


def test_a_backend_that_cannot_sample_runs_the_greedy_program_without_extra_calls():
    result, backend, llm = run(HAM, None, reviewed({HAM: -30.0}))
    assert result.success and backend.world_state()["ham"] == "box"
    assert result.lm_calls == 1 and len(llm.calls) == 1
    assert not any(e.kind == "rerank" for e in result.trace)


def test_rerank_off_and_the_python_baseline_run_the_greedy_program():
    scores = reviewed({HAM: -30.0, BREAD: -12.0, APPLE: -25.0})
    off, backend, llm = run(HAM, [BREAD, APPLE], scores, techniques=Techniques(intent_check=False, rerank=False))
    assert off.program == HAM and backend.world_state()["ham"] == "box" and llm.remaining == 0
    python, backend, _ = run(HAM, [BREAD, APPLE], scores, mode=Mode.COC_PYTHON)
    default, backend, _ = run(HAM, [BREAD, APPLE], scores, techniques=Techniques(intent_check=False))
    assert default.program == HAM and not any(e.kind == "rerank" for e in default.trace)  # opt-in
    assert python.program == HAM and backend.world_state()["ham"] == "box"


def test_a_chosen_program_that_fails_goes_to_repair_like_any_other():
    bad = "pick_place('toast', 'box')\nanswer = 'done'\n"  # 'toast' is no detected object and has no fix
    llm = ScriptedLLM([fenced(HAM), fenced(BREAD)], reviewed({HAM: -30.0, bad: -5.0}),
                      samples=[fenced(bad), fenced(HAM)])
    backend = FakeSkillBackend(objects={"ham": "table", "bread": "table"}, containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(intent_check=False, grammar=False, rerank=True)).run(INSTRUCTION)
    assert result.success, result.error
    kinds = [e.kind for e in result.trace]
    assert kinds.index("rerank") < kinds.index("repair")
    assert result.program == BREAD and backend.world_state()["bread"] == "box"


def test_comments_are_not_reviewed():
    program = ("# put the bread in the box\nx = 1  # the bread\nanswer = '# not a comment'\n\n"
               "pseudo code # here\nthe robot's turn # kept: Python cannot read this line\n")
    assert without_comments(program) == ("x = 1\nanswer = '# not a comment'\npseudo code\n"
                                         "the robot's turn # kept: Python cannot read this line\n")
    assert "bread" not in review_messages(program)[-1]["content"]


def test_scripted_and_caching_backends_offer_sampling_only_where_it_exists():
    plain = ScriptedLLM(["x"], {"q": {"a": -1.0}})
    assert not supports(plain, Sampler) and supports(plain, ReplyScorer)
    with pytest.raises(ScoresUnavailable):
        plain.sample([{"role": "user", "content": "q"}])
    drawn = ScriptedLLM([], {}, samples=["one", "two"])
    assert supports(drawn, Sampler)
    cached = CachingLLM(drawn)
    assert supports(cached, Sampler)
    messages = [{"role": "user", "content": "q"}]
    assert cached.sample(messages, seed=1).text == "one"
    assert cached.sample(messages, seed=1).text == "one"  # seeded: the same draw from the cache
    assert cached.sample(messages, seed=2).text == "two"
    assert not supports(CachingLLM(plain), Sampler)


def test_the_caching_wrapper_offers_only_what_its_backend_has():
    """An OpenAI-compatible server scores options but has no grammar decoding: wrapped for the benchmark's cache,
    it must not look like it has (the wrapper used to offer every capability once its backend had any)."""
    from coc_ros.llm.base import ConstrainedDecoder, OptionScorer

    class ScoresOnly:
        name = "scores-only"

        def complete(self, messages, *, max_tokens=512, stop=None):
            raise AssertionError("not called")

        def score_options(self, messages, options):
            return {o: -1.0 for o in options}

    cached = CachingLLM(ScoresOnly())
    assert supports(cached, OptionScorer)
    assert not supports(cached, ConstrainedDecoder) and not supports(cached, Sampler)
    assert not supports(cached, ReplyScorer)
