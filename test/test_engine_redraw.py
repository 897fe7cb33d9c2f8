"""A goal whose program, also when re-prompted, moved nothing gets one fresh, sampled program (opt-in technique
`redraw`), with a scripted model: the greedy replies are the first program and its re-prompt, the samples are the
draws."""
from __future__ import annotations

from conftest import CountingBackend, fenced
from coc_ros.core.types import Limits
from coc_ros.engine.prompts import intent_messages
from coc_ros.engine.runner import REDRAW_TEMPERATURE, Engine
from coc_ros.engine.techniques import Techniques
from coc_ros.llm.scripted import ScriptedLLM
from coc_ros.robot.api import RobotAPI

INSTRUCTION = "Put anything with nuts in the box."
ACT = {INSTRUCTION: {"Yes": 1.0, "No": -1.0}}
NOTHING = "for obj in detect_objects():\n    if obj == 'walnut':\n        pick_place(obj, 'box')\nanswer = 'done'"
NOTHING_AGAIN = "# no nuts here\n" + NOTHING  # the same program: a comment changes nothing
ACTS = "pick_place('peanut_butter', 'box')\nanswer = 'done'"


def _run(replies: list[str], samples: list[str] | None, **techniques: bool):
    llm = ScriptedLLM([fenced(r) for r in replies], ACT,
                      samples=None if samples is None else [fenced(s) for s in samples])
    backend = CountingBackend(objects={"peanut_butter": "table", "apple": "table"}, containers=("box",),
                              motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(translate=False, **{"redraw": True, **techniques})).run(INSTRUCTION)
    return result, backend, llm


def test_a_fresh_draw_runs_after_the_re_prompt_also_moved_nothing():
    result, backend, llm = _run([NOTHING, NOTHING], [ACTS])
    assert result.success, result.error
    assert backend.motions == [("peanut_butter", "box")]
    drawn = [e for e in result.trace if e.kind == "intent" and e.detail.get("check") == "redraw"]
    assert [(e.detail["seed"], e.detail["used"], e.detail["temperature"]) for e in drawn] == \
        [(1, True, REDRAW_TEMPERATURE)]
    # drawn from the writer's first prompt, not from the conversation about the failed program
    assert llm.calls[-1] == llm.calls[0]


def test_a_draw_that_is_a_program_already_run_is_drawn_again_and_two_copies_end_in_the_intent_error():
    result, backend, _ = _run([NOTHING, NOTHING], [NOTHING_AGAIN, ACTS])
    assert result.success, result.error
    assert [e.detail["used"] for e in result.trace if e.detail.get("check") == "redraw"] == [False, True]

    result, backend, _ = _run([NOTHING, NOTHING], [NOTHING_AGAIN, NOTHING])
    assert not result.success and result.error_kind == "intent"
    assert backend.motions == []


def test_a_drawn_program_that_also_moves_nothing_ends_the_goal_with_a_precise_error():
    lazy = "answer = 'nothing to do'"
    result, backend, llm = _run([NOTHING, NOTHING], [lazy])
    assert not result.success and result.error_kind == "intent"
    assert result.error.endswith("also after being asked again and in a freshly drawn program")
    assert backend.motions == []
    assert len([c for c in llm.calls if c == llm.calls[0]]) == 2  # the first program and one draw: no more draws


def test_redraw_off_by_default_or_a_backend_that_cannot_sample_ends_at_the_re_prompt():
    assert not Techniques().redraw
    for samples, techniques in (([ACTS], {"redraw": False}), (None, {})):
        result, backend, _ = _run([NOTHING, NOTHING], samples, **techniques)
        assert not result.success and result.error_kind == "intent"
        assert result.error.endswith("also after being asked again")
        assert not [e for e in result.trace if e.detail.get("check") == "redraw"]
        assert backend.motions == []


def test_the_intent_checks_reading_of_the_instruction_is_asked_once_per_run():
    """The program moved nothing three times, but whether the instruction asks to act is asked of the model once."""
    result, _, llm = _run([NOTHING, NOTHING], ["answer = 'nothing to do'"])
    assert result.error_kind == "intent"
    assert [c for c in llm.calls if c == intent_messages(INSTRUCTION)] == [intent_messages(INSTRUCTION)]


def test_the_benchmark_record_lists_the_rounds_so_one_run_shows_what_the_redraw_changed():
    from coc_ros.bench.robot import rounds
    result, _, _ = _run([NOTHING, NOTHING], [NOTHING_AGAIN, ACTS])
    assert rounds(result) == ["intent", "redraw"]
    result, _, _ = _run([NOTHING, NOTHING], [ACTS], redraw=False)
    assert rounds(result) == ["intent"]
