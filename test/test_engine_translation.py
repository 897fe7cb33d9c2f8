"""An instruction in another language reaches the program writer with the model's English translation beside it;
an English one reaches it unchanged, with no extra model call. Scripted model, fake robot."""
from __future__ import annotations

import pytest

from conftest import CountingBackend, fenced
from coc_ros.core.types import Limits
from coc_ros.engine.robot_prompts import reads_as_english, with_translation
from coc_ros.engine.runner import Engine
from coc_ros.engine.techniques import Techniques
from coc_ros.llm.scripted import ScriptedLLM
from coc_ros.robot.api import RobotAPI

PROGRAM = "pick_place('red_cube', 'box')\nanswer = 'done'"
ACT = {"Yes": 1.0, "No": -1.0}  # the intent check's scores: the instruction asks to act


@pytest.mark.parametrize("text", ["Could you put the pens away?", "Stack the plates on the tray, please.",
                                  "Lemons to the basket.", "Recycle it.", "warmup 0", "safety case velocity_zero",
                                  "put the jalapeño in the bowl", "Sort waste: compost, recycling, trash bins."])
def test_english_instructions_read_as_english(text):
    """Names and labels alone ('velocity_zero', 'jalapeño') never make an instruction foreign."""
    assert reads_as_english(text)


@pytest.mark.parametrize("text", ["Leg de rode kubus in de doos.", "Metti il cubo rosso nella scatola.",
                                  "Metti via tutto sul tavolo",
                                  "Kırmızı küpü kutuya koy.", "把红色的方块放进盒子里。",
                                  "Положи красный кубик в коробку.", "Put the 红色的方块 in the box."])
def test_other_languages_and_mixed_instructions_do_not(text):
    assert not reads_as_english(text)


def test_with_translation_keeps_the_original_first_and_flattens_the_english():
    assert with_translation("Leg de kubus in de doos.", "Put the cube\nin the box.") == \
        "Leg de kubus in de doos.\n(In English: Put the cube in the box.)"
    assert with_translation("Leg de kubus in de doos.", "  ") == "Leg de kubus in de doos."


def _run(instruction: str, replies: list[str], **techniques: bool):
    llm = ScriptedLLM(replies, {instruction: ACT})
    backend = CountingBackend(objects={"red_cube": "table", "blue_cube": "table"}, containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(**techniques)).run(instruction)
    assert result.success, result.error
    assert backend.motions == [("red_cube", "box")]
    return result, llm


def test_an_instruction_in_another_language_reaches_the_writer_with_its_translation_and_is_traced():
    result, llm = _run("Leg de rode kubus in de doos.", ["Put the red cube in the box.", fenced(PROGRAM)])
    prompt = llm.calls[1][-1]["content"]
    assert prompt.startswith("Question: Leg de rode kubus in de doos.\n(In English: Put the red cube in the box.)\n")
    assert "Translate" in llm.calls[0][0]["content"]  # the first call asked for the translation
    events = [e for e in result.trace if e.kind == "translation"]
    assert [(e.source, e.executor) for e in events] == [("Put the red cube in the box.", "lm")]
    assert result.lm_calls >= 2


def test_an_english_instruction_is_not_translated_and_its_prompt_is_unchanged():
    on, llm_on = _run("Put the red cube in the box.", [fenced(PROGRAM)])
    _, llm_off = _run("Put the red cube in the box.", [fenced(PROGRAM)], translate=False)
    assert not [e for e in on.trace if e.kind == "translation"]
    assert llm_on.calls[0] == llm_off.calls[0]  # byte for byte the same writer prompt
    assert "(In English:" not in llm_on.calls[0][-1]["content"]


def test_translation_switched_off_leaves_the_instruction_as_written():
    result, llm = _run("Leg de rode kubus in de doos.", [fenced(PROGRAM)], translate=False)
    assert llm.calls[0][-1]["content"].startswith("Question: Leg de rode kubus in de doos.\nThe camera sees:")
    assert not [e for e in result.trace if e.kind == "translation"]


def test_the_translation_counts_in_the_runs_tokens_like_any_model_call():
    """The translation goes through the same call path as the program: its tokens are in the run's totals and its
    exchange is in its trace event."""
    foreign, _ = _run("Leg de rode kubus in de doos.", ["Put the red cube in the box.", fenced(PROGRAM)])
    english, _ = _run("Leg de rode kubus in de doos.", [fenced(PROGRAM)], translate=False)
    event = next(e for e in foreign.trace if e.kind == "translation")
    assert event.detail["completion_tokens"] == len("Put the red cube in the box.") // 4
    assert foreign.completion_tokens == english.completion_tokens + event.detail["completion_tokens"]
    assert foreign.prompt_tokens > english.prompt_tokens
