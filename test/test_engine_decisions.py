"""Typed LMulator decisions, grounding, repair, the intent check and memoization, with a scripted model.

The scripted model answers scored questions from a table keyed by the question text, so each test states exactly
what the model "believes" and checks what the engine does with it.
"""
from __future__ import annotations

import ast
import dataclasses

import pytest

from conftest import CountingBackend, fenced
from coc_ros.core.types import Limits
from coc_ros.engine.lmulator import LMulator
from coc_ros.engine.lmulator_protocol import SimRequest
from coc_ros.engine.prompts import describe_messages, helper_question
from coc_ros.engine.runner import Engine
from coc_ros.engine.techniques import Techniques
from coc_ros.llm.base import LLMError
from coc_ros.llm.grammar import choice_grammar, gbnf_literal
from coc_ros.llm.scripted import ScriptedLLM
from coc_ros.core.names import ground_name
from coc_ros.robot.api import RobotAPI
from coc_ros.robot.fake_backend import FakeSkillBackend
from coc_ros.sandbox.usage import analyse_usage

LUNCH = {"ham": "table", "bread": "table", "apple": "table", "cheese": "table"}


def yes_no(logodds: dict[str, float], helper: str = "is_vegan") -> dict[str, dict[str, float]]:
    """Scores for `helper(obj)` as Yes/No log-probs whose difference is the given log-odds."""
    return {helper_question(helper, [obj]): {"Yes": lo, "No": 0.0} for obj, lo in logodds.items()}


def described(facts: dict[str, str]) -> dict[str, str]:
    """The scripted model's answers to the LMulator's description requests, from object -> description."""
    return {describe_messages(obj)[-1]["content"]: text for obj, text in facts.items()}


def robot_engine(replies: list[str], scores: dict | None = None, objects: dict[str, str] | None = None,
                 techniques: Techniques | None = None) -> tuple[Engine, FakeSkillBackend, ScriptedLLM]:
    llm = ScriptedLLM(replies, scores)
    backend = FakeSkillBackend(objects=dict(objects or LUNCH), containers=("box", "trash_bin", "green_bin",
                                                                          "blue_bin"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30), techniques=techniques)
    return engine, backend, llm


def lm_calls(result) -> list[dict]:
    return [c for e in result.trace for c in (e.detail or {}).get("lm_calls", [])]


# ------------------------------------------------------------------------------------------- usage analysis
def test_usage_analysis_classifies_helpers_by_what_the_program_does_with_them():
    program = (
        "objects = detect_objects()\n"
        "bins = {'compost': 'green_bin', 'recycling': 'blue_bin'}\n"
        "target = find_place('the grass-coloured one')\n"
        "for obj in objects:\n"
        "    kind = waste_kind(obj)\n"
        "    if kind == 'compost':\n"
        "        pick_place(obj, target)\n"
        "    elif likes(obj) and not is_heavy(obj):\n"
        "        pick_place(obj, bins[category(obj)])\n"
        "for o in pick_fruit(objects):\n"
        "    pick_place(o, 'box')\n"
        "d = datetime.datetime.strptime(parse_date('May 6, 1992'), '%m/%d/%Y')\n"
        "n = count_legs('spider') - 2\n"
        "answer = describe(objects)\n"
    )
    usage = analyse_usage(ast.parse(program))
    assert usage["waste_kind"]["decision"] == "choice" and usage["waste_kind"]["options"] == ["compost"]
    assert usage["category"]["decision"] == "choice" and usage["category"]["options"] == ["compost", "recycling"]
    assert usage["likes"]["decision"] == "bool" and usage["is_heavy"]["decision"] == "bool"
    assert usage["find_place"]["decision"] == "name" and usage["find_place"]["role"] == "place"
    assert usage["pick_fruit"]["decision"] == "names" and usage["pick_fruit"]["role"] == "object"
    assert usage["parse_date"]["expect"] == "str"
    assert usage["count_legs"]["expect"] == "number"
    assert usage.get("describe", {}).get("decision", "free") == "free"  # nothing in its use says more


# ------------------------------------------------------------------------------------ log-odds and calibration
def test_truth_values_come_from_log_odds_centred_over_the_scene_objects():
    # A yes-biased model: every object gets positive log-odds; ham and cheese the least.
    scores = yes_no({"ham": 0.4, "bread": 2.6, "apple": 3.0, "cheese": 0.8})
    program = ("vegan = []\nfor obj in detect_objects():\n    if is_vegan(obj):\n        pick_place(obj, 'box')\n"
               "        vegan.append(obj)\nanswer = vegan")
    engine, backend, _ = robot_engine([fenced(program)], scores)
    result = engine.run("put the vegan food in the box")
    assert result.success, result.error
    assert result.answer == ["bread", "apple"]
    assert backend.world == {"ham": "table", "bread": "box", "apple": "box", "cheese": "table"}
    decisions = {c["args"][0]: c for c in lm_calls(result)}
    assert decisions["ham"]["decision"] == "bool" and decisions["ham"]["raw_logodds"] == pytest.approx(0.4)
    assert decisions["ham"]["logodds"] == pytest.approx(0.4 - 1.7) and decisions["ham"]["calibrated"]
    assert decisions["bread"]["logodds"] == pytest.approx(2.6 - 1.7)


def test_without_calibration_the_raw_log_odds_decide():
    scores = yes_no({"ham": 0.4, "bread": 2.6, "apple": 3.0, "cheese": 0.8})
    program = "answer = [obj for obj in detect_objects() if is_vegan(obj)]"
    engine, _, _ = robot_engine([fenced(program)], scores, techniques=Techniques(calibrate=False, intent_check=False))
    result = engine.run("which food is vegan?")
    assert result.success, result.error
    assert result.answer == ["ham", "bread", "apple", "cheese"]  # the yes-bias shows when nothing corrects it
    assert not any(c["calibrated"] for c in lm_calls(result))


KITCHEN = {"egg_1": 3.2, "egg_2": 3.2, "green_pepper": 2.3, "tomato_1": 1.6, "tomato_2": 1.6, "soap_bar": -1.4}


@pytest.mark.parametrize("techniques, food", [
    (Techniques(intent_check=False), ["egg_1", "egg_2", "green_pepper", "tomato_1", "tomato_2"]),
    # the ablation: centring subtracts the mean 1.75 and takes the tomatoes below zero
    (Techniques(intent_check=False, gap_threshold=False), ["egg_1", "egg_2", "green_pepper"]),
], ids=["widest-gap", "centred"])
def test_a_scene_where_most_objects_have_the_attribute_is_split_at_the_widest_gap(techniques, food):
    scores = yes_no(KITCHEN, "is_food")
    program = "answer = [obj for obj in detect_objects() if is_food(obj)]"
    engine, _, _ = robot_engine([fenced(program)], scores, objects={k: "table" for k in KITCHEN},
                                techniques=techniques)
    result = engine.run("which of these is food?")
    assert result.success, result.error
    assert result.answer == food
    assert all(c["calibrated"] for c in lm_calls(result) if c.get("decision") == "bool")


def test_choice_is_scored_over_the_programs_literals_and_centred():
    options = ["compost", "recycling", "other"]
    table = {"banana": [2.0, 1.0, -1.0], "can": [1.5, 2.5, -1.0], "wrapper": [1.0, 0.2, 0.3]}
    engine, backend, llm = robot_engine([], None, objects={k: "table" for k in table})
    from coc_ros.engine.prompts import choice_messages

    llm._scores = {choice_messages("sort the waste", "bin_for", [obj], options)[-1]["content"]: dict(zip(options, row))
                   for obj, row in table.items()}
    program = ("for obj in detect_objects():\n    b = bin_for(obj)\n    if b == 'compost':\n"
               "        pick_place(obj, 'green_bin')\n    elif b == 'recycling':\n        pick_place(obj, 'blue_bin')\n"
               "    else:\n        pick_place(obj, 'trash_bin')\nanswer = 'sorted'")
    llm._replies = [fenced(program)]
    result = engine.run("sort the waste")
    assert result.success, result.error
    # Raw argmax would put the wrapper in compost; centred per option it is the odd one out: trash.
    assert backend.world == {"banana": "green_bin", "can": "blue_bin", "wrapper": "trash_bin"}
    wrapper = next(c for c in lm_calls(result) if c["args"] == ["wrapper"])
    assert wrapper["decision"] == "choice" and wrapper["raw_choice"] == "compost"


def test_a_backend_without_scores_falls_back_to_free_text():
    engine, backend, llm = robot_engine(
        [fenced("for obj in detect_objects():\n    if is_vegan(obj):\n        pick_place(obj, 'box')\nanswer = 1"),
         "False", "True", "True", "False"])
    result = engine.run("put the vegan food in the box")
    assert result.success, result.error
    assert [c["decision"] for c in lm_calls(result)] == ["free"] * 4
    assert backend.world["bread"] == "box" and backend.world["ham"] == "table"


# ---------------------------------------------------------------------------------------------- grammar names
def test_grammar_escapes_names_and_admits_only_them():
    names = ["green_bin", "kid's \"cup\"", "back\\slash", "西红柿"]
    grammar = choice_grammar(names)
    for name in names:
        assert gbnf_literal(repr(name)) in grammar
    assert gbnf_literal('a"b\\c') == '"a\\"b\\\\c"'
    assert 'root ::= "[" ( item ( ", " item )* )? "]"' in choice_grammar(names, many=True)
    with pytest.raises(ValueError):
        choice_grammar([])


def test_a_described_container_is_decoded_as_one_of_the_places():
    program = "target = find_place('the grass-coloured container')\npick_place('apple', target)\nanswer = target"
    engine, backend, llm = robot_engine([fenced(program), "'green_bin'"], scores={})
    result = engine.run("put the apple in the grass-coloured container")
    assert result.success, result.error
    assert backend.world["apple"] == "green_bin"
    call = lm_calls(result)[0]
    assert call["decision"] == "name" and call["grammar"]
    # The grammar the model decoded under held exactly the places and objects (ScriptedLLM checks admission).
    assert "green_bin" in llm.calls[1][-1]["content"]


def test_a_model_that_never_yields_a_valid_name_ends_with_a_precise_error():
    program = "target = find_place('the sky-coloured thing')\npick_place('apple', target)\nanswer = target"
    engine, backend, _ = robot_engine([fenced(program), "'grass_bin'"], scores={},
                                      techniques=Techniques(repair=False))
    result = engine.run("put the apple in the sky-coloured thing")
    assert not result.success
    assert "find_place" in result.error and "grass_bin" in result.error
    assert backend.world["apple"] == "table"
    assert result.trace[-1].kind == "run_end"


def test_a_grammar_that_cannot_be_built_is_a_clear_error():
    class BrokenGrammar(ScriptedLLM):
        def complete_choice(self, *args, **kwargs):
            raise LLMError("constrained decoding failed (grammar could not be built)")

    lmulator = LMulator(BrokenGrammar([], {}))
    request = SimRequest(run_id="r", question="q", program="", line=1, source="", kind="call",
                         expression="find_place('x')", state={},
                         hints={"decision": "name", "options": ["a", "b"], "helper": "find_place", "args": ["x"]})
    with pytest.raises(Exception) as info:
        lmulator.simulate(request)
    assert "could not decide find_place('x')" in str(info.value) and "grammar" in str(info.value)


# ------------------------------------------------------------------------------------------------- grounding
def test_grounding_fixes_only_unambiguous_names():
    candidates = ["peanut_butter_jar", "tomato_1", "tomato_2", "green_bin"]
    assert ground_name("peanut butter", candidates) == "peanut_butter_jar"
    assert ground_name("The Green-Bin", candidates) == "green_bin"
    assert ground_name("tomato", candidates) is None  # two tomatoes: the writer must choose
    assert ground_name("grass_bin", candidates) is None


def test_grounding_is_applied_without_the_model_and_recorded():
    engine, backend, llm = robot_engine([fenced("pick_place('the apple', 'trash bin')\nanswer = 'ok'")], {})
    result = engine.run("throw the apple away")
    assert result.success, result.error
    assert backend.world["apple"] == "trash_bin"
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert {"skill": "pick_place", "given": "the apple", "grounded": "apple"} in fixes
    assert {"skill": "pick_place", "given": "trash bin", "grounded": "trash_bin"} in fixes
    assert len(llm.calls) == 1  # only the program: no repair round, no model call for the fix


# ---------------------------------------------------------------------------------------------------- repair
def test_repair_reprompts_with_the_error_and_never_repeats_a_motion():
    first = "pick_place('ham', 'trash_bin')\npick_place('tomato', 'box')\nanswer = 'done'"
    repaired = "pick_place('ham', 'trash_bin')\npick_place('apple', 'box')\nanswer = 'done'"
    llm = ScriptedLLM([fenced(first), fenced(repaired)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30))
    result = engine.run("throw the ham away and put the tomato in the box")
    assert result.success, result.error
    assert backend.motions == [("ham", "trash_bin"), ("apple", "box")]  # ham moved once, not twice
    repairs = [e for e in result.trace if e.kind == "repair"]
    assert len(repairs) == 1 and "tomato" in repairs[0].detail["error"]
    feedback = llm.calls[1][-1]["content"]
    assert "no object named 'tomato'" in feedback and "apple" in feedback
    assert "pick_place('ham', 'trash_bin')" in feedback  # the writer is told what was done


def test_a_skill_error_after_two_repair_rounds_ends_the_goal():
    bad = fenced("pick_place('unicorn', 'box')\nanswer = 'done'")
    engine, backend, _ = robot_engine([bad, bad, bad], {})
    result = engine.run("put the unicorn in the box")
    assert not result.success and result.error_kind == "program"
    assert "unicorn" in result.error and "valid names" in result.error
    assert [e.detail["round"] for e in result.trace if e.kind == "repair"] == [1, 2]
    assert result.trace[-1].kind == "run_end"


def test_repair_off_ends_at_the_first_error():
    engine, _, _ = robot_engine([fenced("pick_place('unicorn', 'box')\nanswer = 1")], {},
                                techniques=Techniques(repair=False))
    result = engine.run("put the unicorn in the box")
    assert not result.success and not [e for e in result.trace if e.kind == "repair"]


# ------------------------------------------------------------------------------------------------ intent check
def test_an_instruction_to_act_without_motion_is_reprompted_then_fails():
    lazy = fenced("answer = 'prepared'")
    scores = {"Prepare 西红柿炒蛋 in the box.": {"Yes": 1.0, "No": -1.0}}
    engine, backend, _ = robot_engine(["Prepare tomato and egg stir-fry in the box.", lazy, lazy], scores)
    result = engine.run("Prepare 西红柿炒蛋 in the box.")
    assert not result.success and result.error_kind == "intent"
    assert "made no robot motion" in result.error
    assert [e.kind for e in result.trace].count("intent") == 1
    assert set(backend.world.values()) == {"table"}


def test_the_intent_check_accepts_a_reprompted_program_that_acts():
    scores = {"Throw the ham away.": {"Yes": 1.0, "No": -1.0}}
    engine, backend, _ = robot_engine([fenced("answer = 'ok'"), fenced("pick_place('ham', 'trash_bin')\nanswer = 1")],
                                      scores)
    result = engine.run("Throw the ham away.")
    assert result.success, result.error
    assert backend.world["ham"] == "trash_bin"


def test_a_count_left_out_of_the_answer_is_asked_for_once_without_moving_again():
    first = fenced("for o in ['ham', 'cheese']:\n    pick_place(o, 'box')\nanswer = 'done'")
    again = fenced("moved = ['ham', 'cheese']\nfor o in moved:\n    pick_place(o, 'box')\nanswer = len(moved)")
    engine, backend, llm = robot_engine([first, again], {})
    result = engine.run("Put the ham and the cheese in the box and tell me how many things you put there.")
    assert result.success, result.error
    assert result.answer == 2 and backend.world["ham"] == backend.world["cheese"] == "box"
    assert engine.robot.motions == 2  # the second program's pick_place calls were not made again
    asked = [e for e in result.trace if e.kind == "intent"]
    assert len(asked) == 1 and asked[0].detail["check"] == "count"
    assert "pick_place('ham', 'box')" in llm.calls[1][-1]["content"]  # told what was done


def test_a_re_ask_for_the_count_can_never_move_anything_new():
    first = fenced("pick_place('ham', 'box')\nanswer = 'done'")
    greedy = fenced("pick_place('ham', 'box')\npick_place('apple', 'box')\nanswer = 2")
    engine, backend, _ = robot_engine([first, greedy], {})
    result = engine.run("Put the ham in the box, then tell me how many things are in the box.")
    assert result.success, result.error  # the goal's motion was made; the failed re-ask leaves it as it was
    assert backend.world["apple"] == "table" and backend.world["ham"] == "box"
    assert result.answer == "done"
    assert "refused" in [e.detail.get("error", "") for e in result.trace if e.kind == "intent"][-2]
    assert engine.robot.said == ["My program gave no number for how many. I moved 1 object: ham."]
    # A limit reached while re-asking ends the goal with that error, as a cancel would: it is never swallowed.
    looping = fenced("n = 0\nwhile True:\n    n += 1\nanswer = n")
    llm = ScriptedLLM([first, looping], {})
    backend = FakeSkillBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    robot = RobotAPI(backend)
    result = Engine(llm, robot=robot, limits=Limits(timeout_s=30, max_statements=200)).run(
        "Put the ham in the box and tell me how many things are in it.")
    assert not result.success and result.error_kind == "limit", result.error
    assert backend.world["ham"] == "box" and not robot.hold_still  # released however the goal ends
    # A goal that asks no number is not re-asked.
    engine, _, llm = robot_engine([first], {})
    assert engine.run("Put the ham in the box.").success and len(llm.calls) == 1


def test_a_count_still_missing_after_the_re_ask_is_told_as_the_motions_made():
    first = fenced("for o in ['ham', 'cheese']:\n    pick_place(o, 'box')\nanswer = 'done'")
    engine, backend, _ = robot_engine([first, first], {})
    result = engine.run("Put the ham and the cheese in the box and tell me how many things you put there.")
    assert result.success, result.error
    assert result.answer == "done" and engine.robot.motions == 2  # nothing moved twice
    said = "My program gave no number for how many. I moved 2 objects: ham, cheese."
    assert engine.robot.said == [said]  # the one number the engine knows, said as what it is
    told = [e.detail for e in result.trace if e.kind == "intent" and "said" in e.detail]
    assert told == [{"check": "count", "said": said}]
    # a program that said a number is not told anything more
    counted = fenced("for o in ['ham', 'cheese']:\n    pick_place(o, 'box')\nanswer = 2")
    engine, _, llm = robot_engine([counted], {})
    result = engine.run("Put the ham and the cheese in the box and tell me how many things you put there.")
    assert result.success and engine.robot.said == [] and len(llm.calls) == 1


def test_a_question_needs_no_motion():
    scores = {"How many things are on the table?": {"Yes": -2.0, "No": 0.0}}
    engine, _, _ = robot_engine([fenced("answer = len(detect_objects())")], scores)
    result = engine.run("How many things are on the table?")
    assert result.success and result.answer == 4


# ------------------------------------------------------------------------------------------------ memoization
def test_the_same_helper_call_is_answered_once_and_marked():
    program = "a = get_meaning('ham')\nb = get_meaning('ham')\nc = get_meaning('bread')\nanswer = [a, b, c]"
    engine, _, llm = robot_engine([fenced(program), "'meat'", "'baked'"], None, techniques=Techniques(
        intent_check=False))
    result = engine.run("what are these?")
    assert result.success, result.error
    assert result.answer == ["meat", "meat", "baked"]
    calls = lm_calls(result)
    assert [bool(c.get("memo")) for c in calls] == [False, True, False]
    assert result.lm_calls == 3  # program + two LMulator calls


def test_memoized_calls_cost_no_lm_call_and_do_not_count_against_the_budget():
    """Measured on the yard split: a program repeating its elif tests ended at "more than 64 LMulator calls" after
    14 model calls and 50 memoized answers. The same call asked again is free, so only model calls count, in the worker
    and the host."""
    program = "answer = [get_meaning('ham') for _ in range(12)]"
    for memoize, success in ((True, True), (False, False)):
        llm = ScriptedLLM([fenced(program), *["'meat'"] * 12])
        engine = Engine(llm, robot=RobotAPI(FakeSkillBackend(objects=dict(LUNCH), motion_s=0.0)),
                        limits=Limits(timeout_s=30, max_lm_calls=4),
                        techniques=Techniques(memoize=memoize, intent_check=False))
        result = engine.run("what is ham?")
        assert result.success is success, result.error
        if success:
            assert result.answer == ["meat"] * 12 and result.lm_calls == 2  # the program and one LMulator call
        else:
            assert result.error_kind == "limit" and "LM call budget" in result.error


def test_memoize_off_asks_again():
    program = "a = get_meaning('ham')\nb = get_meaning('ham')\nanswer = [a, b]"
    engine, _, _ = robot_engine([fenced(program), "'meat'", "'pork'"], None, techniques=Techniques(
        memoize=False, intent_check=False))
    result = engine.run("what is ham?")
    assert result.answer == ["meat", "pork"]


# ------------------------------------------------------------------------------------------- perception queries
def test_colour_and_shape_come_from_the_camera_not_the_model():
    objects = {"red_cube": "table", "red_cylinder": "table", "green_cube": "table"}
    program = ("for obj in detect_objects():\n    if get_color(obj) == 'red' and get_shape(obj) == 'cube':\n"
               "        pick_place(obj, 'trash_bin')\nanswer = 'done'")
    engine, backend, llm = robot_engine([fenced(program)], {"put the red cube in the trash bin": {"Yes": 1, "No": 0}},
                                        objects=objects)
    result = engine.run("put the red cube in the trash bin")
    assert result.success, result.error
    assert backend.world == {"red_cube": "trash_bin", "red_cylinder": "table", "green_cube": "table"}
    assert not lm_calls(result)  # nothing asked of the LMulator


def test_a_name_asked_for_by_its_own_words_is_restricted_to_the_names_containing_them():
    lmulator = LMulator(ScriptedLLM(["'egg_1'", "'tomato_2'"], {}))
    hints = {"decision": "name", "options": ["pot", "tomato_1", "tomato_2", "egg_1"], "helper": "find_object"}
    request = SimRequest(run_id="r", question="q", program="", line=1, source="", kind="call",
                         expression="find_object('tomato')", state={}, hints={**hints, "args": ["tomato"]})
    with pytest.raises(Exception, match="not admitted"):  # egg_1 is outside the grammar of the two tomatoes
        lmulator.simulate(request)
    assert lmulator.simulate(request).value == "'tomato_2'"
    single = dataclasses.replace(request, expression="find_object('egg')", hints={**hints, "args": ["egg"]})
    reply = lmulator.simulate(single)
    assert reply.value == "'egg_1'" and reply.detail["grounded"]  # one candidate: no model call at all


def test_membership_and_index_in_a_literal_list_make_a_choice():
    program = ("sizes = ['small', 'medium', 'large']\nrank = sizes.index(size_of('elephant'))\n"
               "ok = colour_of('sky') in ['blue', 'grey']\nanswer = rank")
    usage = analyse_usage(ast.parse(program))
    assert usage["size_of"]["decision"] == "choice" and usage["size_of"]["options"] == ["small", "medium", "large"]
    assert usage["colour_of"]["decision"] == "choice" and usage["colour_of"]["options"] == ["blue", "grey"]


def test_coc_python_is_run_as_written_without_repair():
    program = "for obj in detect_objects():\n    if is_vegan(obj):\n        pick_place(obj, 'box')\nanswer = 1"
    engine, backend, llm = robot_engine([fenced(program)], {})
    result = engine.run("put the vegan food in the box", "coc-python")
    assert not result.success and "is_vegan" in result.error
    assert not [e for e in result.trace if e.kind in ("repair", "intent")] and len(llm.calls) == 1


def test_calibration_removes_only_a_yes_bias():
    from coc_ros.engine.lmulator import MIN_GAP, debiased, split_point

    assert debiased(0.4, [0.4, 2.6, 3.0, 0.8]) == pytest.approx(0.4 - 1.7)  # yes-biased: centred
    assert debiased(0.19, [-0.12, -2.56, 0.19, -0.04]) == pytest.approx(0.19)  # already discriminating: raw
    assert debiased(-0.04, [-0.12, -2.56, 0.19, -0.04]) < 0  # centring would have said yes here
    # a yes-biased scene the model separates (a gap of 3.0 under the tomatoes) is split there, not at the mean
    peers = list(KITCHEN.values())
    assert split_point(peers) == pytest.approx(0.1)
    assert debiased(1.6, peers) > 0 and debiased(-1.4, peers) < 0
    assert debiased(1.6, peers, gap=False) == pytest.approx(1.6 - 1.75)
    # no gap of at least MIN_GAP: the model separates nothing clearly, so the mean is the bias
    close = [0.5, 0.9, 1.2, 1.4]
    assert max(b - a for a, b in zip(sorted(close), sorted(close)[1:])) < MIN_GAP
    assert split_point(close) == pytest.approx(1.0) and debiased(0.9, close) < 0


def test_an_object_named_by_the_predicate_is_decided_without_the_model():
    scores = yes_no({"green_pepper": -0.5}, "is_tomato")  # no scores exist for the tomatoes: never asked
    lmulator = LMulator(ScriptedLLM([], scores))

    def decide(obj: str):
        return lmulator.simulate(SimRequest(
            run_id="r", question="which are tomatoes?", program="", line=1, source="", kind="call",
            expression=f"is_tomato({obj!r})", state={},
            hints={"decision": "bool", "helper": "is_tomato", "args": [obj], "calibrate": False}))

    named, asked = decide("tomato_2"), decide("green_pepper")
    assert (named.value, named.detail.get("named")) == ("True", True)
    assert (asked.value, asked.detail.get("named", False)) == ("False", False)


def test_only_the_head_of_a_name_or_its_colour_decides_without_the_model():
    from coc_ros.engine.lmulator import named_as

    assert named_as("is_jar", ["peanut_butter_jar"]) and named_as("is_tomato", ["tomato_12"])
    assert named_as("is_red", ["red_cube"]) and named_as("is_grey", ["grey_mug"])
    # a modifier is not what the thing is: a paint brush is no paint, a fruit bowl no fruit
    assert not named_as("is_paint", ["paint_brush"]) and not named_as("is_fruit", ["fruit_bowl"])
    assert not named_as("is_peanut_butter", ["peanut_butter_jar"])
    scores = yes_no({"paint_brush": -1.5}, "is_paint")
    reply = LMulator(ScriptedLLM([], scores)).simulate(SimRequest(
        run_id="r", question="put the paint away", program="", line=1, source="", kind="call",
        expression="is_paint('paint_brush')", state={},
        hints={"decision": "bool", "helper": "is_paint", "args": ["paint_brush"], "calibrate": False}))
    assert (reply.value, reply.detail.get("named", False)) == ("False", False)


def test_keeping_an_object_on_the_table_is_no_motion():
    program = "pick_place('ham', 'table')\npick_place('bread', 'box')\nanswer = 'ok'"
    llm = ScriptedLLM([fenced(program)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run("box the bread, keep the ham")
    assert result.success, result.error
    assert backend.motions == [("bread", "box")] and backend.world["ham"] == "table"


def test_leaving_an_object_where_it_is_is_no_motion_but_an_unknown_target_still_fails():
    program = ("for obj in ['ham', 'bread', 'apple']:\n"
               "    pick_place(obj, 'box' if obj == 'bread' else 'where it is')\n"
               "pick_place('cheese', 'bin')\nanswer = 'ok'")
    llm = ScriptedLLM([fenced(program)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin", "green_bin"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(repair=False))
    result = engine.run("box the bread, leave the rest where it is, bin the cheese")
    assert backend.motions == [("bread", "box")]  # 'where it is' moved nothing; the run went on to the next line
    assert not result.success and "no target named 'bin'" in result.error  # ambiguous: two bins


@pytest.mark.parametrize("target", ["ignore", "leave alone", "do not touch", "others", "the rest"])
def test_leaving_the_rest_alone_is_no_motion(target):
    program = (f"for obj in ['ham', 'bread']:\n    pick_place(obj, 'box' if obj == 'bread' else {target!r})\n"
               "answer = 'ok'")
    backend = CountingBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(ScriptedLLM([fenced(program)], {}), robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(repair=False)).run("box the bread and don't touch the rest")
    assert result.success, result.error
    assert backend.motions == [("bread", "box")] and backend.world["ham"] == "table"


def test_staying_put_in_another_language_is_no_motion():
    program = ("for obj in ['ham', 'bread', 'apple']:\n"
               "    pick_place(obj, 'box' if obj == 'bread' else 'liegen')\n"
               "pick_place('cheese', '原地')\nanswer = 'ok'")
    llm = ScriptedLLM([fenced(program)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(repair=False, translate=False)).run(
        "Leg das Brot in die Box, alles andere bleibt liegen.")
    assert result.success, result.error
    assert backend.motions == [("bread", "box")] and backend.world["cheese"] == "table"


def test_a_predicate_naming_a_colour_or_label_the_camera_reports_is_answered_by_the_camera():
    objects = {"red_cube": "table", "red_cylinder": "table", "green_cube": "table", "blue_cylinder": "table"}
    program = "answer = [o for o in detect_objects() if is_red(o) and not is_cylinder(o)]"
    # No scores: a question to the model would fail the run, so success proves the camera answered.
    engine, _, llm = robot_engine([fenced(program)], {}, objects=objects, techniques=Techniques(intent_check=False))
    result = engine.run("which red things are not cylinders?")
    assert result.success, result.error
    assert result.answer == ["red_cube"]
    assert lm_calls(result) and all(c.get("perceived") in ("color", "label") for c in lm_calls(result))
    assert result.lm_calls == 1  # the program writer only


def test_the_program_writer_sees_the_objects_the_camera_reports():
    engine, _, llm = robot_engine([fenced("answer = len(detect_objects())")], {},
                                  techniques=Techniques(intent_check=False))
    result = engine.run("how many things are there?")
    assert result.success and result.answer == 4
    question = llm.calls[0][-1]["content"]
    assert question == ("Question: how many things are there?\n"
                        "The camera sees: ham, bread, apple, cheese. "
                        "get_shape returns one of 'ham', 'bread', 'apple', 'cheese'.")
    shots = [m["content"] for m in llm.calls[0] if m["role"] == "user"][:-1]
    assert shots and all("\nThe camera sees: " in q for q in shots)  # the shots show the same line


def test_intent_check_without_logprobs_falls_back_to_the_instructions_form():
    from coc_ros.llm.base import ScoresUnavailable

    class NoLogprobs(ScriptedLLM):
        def score_options(self, messages, options):
            raise ScoresUnavailable("the server returned no logprobs")

    lazy = fenced("answer = 'ok'")
    llm = NoLogprobs([lazy, lazy], {})
    backend = FakeSkillBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run("Put the ham in the box.")
    assert not result.success and result.error_kind == "intent"  # an imperative: asked again, then failed
    answered = Engine(NoLogprobs([lazy], {}), robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run(
        "Is there any ham?")
    assert answered.success  # a question needs no motion


# ------------------------------------------------------------------------------------------ generated knowledge
def test_each_detected_object_is_described_once_and_the_description_precedes_the_question():
    facts = {"ham": "Ham is cured pork meat.", "bread": "Bread is baked wheat dough.",
             "apple": "An apple is a fruit.", "cheese": "Cheese is made from milk."}
    # The model answers differently with the fact in front of the question than without it.
    scores = {f"{facts[o]}\n{helper_question('is_vegan', [o])}": {"Yes": lo, "No": 0.0}
              for o, lo in {"ham": -2.0, "bread": 1.0, "apple": 2.0, "cheese": -1.5}.items()}
    scores.update(yes_no({"ham": 3.0, "bread": -1.0, "apple": -1.0, "cheese": 3.0}))
    program = "answer = [obj for obj in detect_objects() if is_vegan(obj)]"
    llm = ScriptedLLM([fenced(program), fenced(program)], scores, facts=described(facts))
    backend = FakeSkillBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(intent_check=False, both_prompts=False))
    first = engine.run("which food is vegan?")
    assert first.success, first.error
    assert first.answer == ["bread", "apple"]
    assert {c["args"][0]: c["fact"] for c in lm_calls(first)} == facts  # the trace shows what the model was told
    requests = [m for m in llm.calls if m[0]["content"].startswith("You describe")]
    assert len(requests) == 4  # once per object, although each is also a peer of the other three questions

    second = engine.run("which food is vegan?")  # the same objects in the next goal: no new descriptions
    assert second.answer == ["bread", "apple"]
    assert len([m for m in llm.calls if m[0]["content"].startswith("You describe")]) == 4


def test_both_prompts_decide_from_the_mean_of_the_described_and_the_bare_question():
    facts = {"ham": "Ham is cured pork meat.", "bread": "Bread is baked wheat dough.",
             "apple": "An apple is a fruit.", "cheese": "Cheese is made from milk."}
    # With the description the model is sure about ham and unsure about bread; bare, the other way round.
    scores = {f"{facts[o]}\n{helper_question('is_vegan', [o])}": {"Yes": lo, "No": 0.0}
              for o, lo in {"ham": -4.0, "bread": 0.5, "apple": 2.0, "cheese": -1.0}.items()}
    scores.update(yes_no({"ham": 1.0, "bread": 1.5, "apple": 1.0, "cheese": -2.0}))
    program = "answer = [obj for obj in detect_objects() if is_vegan(obj)]"
    llm = ScriptedLLM([fenced(program)], scores, facts=described(facts))
    backend = FakeSkillBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(intent_check=False)).run("which food is vegan?")
    assert result.success, result.error
    assert result.answer == ["bread", "apple"]  # means: ham -1.5, bread 1.0, apple 1.5, cheese -1.5 (mean < 0: raw)
    assert {c["args"][0]: c["raw_logodds"] for c in lm_calls(result)} == {
        "ham": -1.5, "bread": 1.0, "apple": 1.5, "cheese": -1.5}
    ham = next(c for c in lm_calls(result) if c["args"] == ["ham"])
    assert ham["prompt_logodds"] == {"described": -4.0, "bare": 1.0}  # the trace says which prompt carried it
    asked = [m[-1]["content"] for m in llm.calls if not m[0]["content"].startswith("You describe")]
    bare = helper_question("is_vegan", ["ham"])
    assert bare in asked and f"{facts['ham']}\n{bare}" in asked


def test_describe_off_asks_the_bare_question():
    scores = yes_no({"ham": -2.0, "bread": 1.0, "apple": 2.0, "cheese": -1.5})
    llm = ScriptedLLM([fenced("answer = [obj for obj in detect_objects() if is_vegan(obj)]")], scores,
                      facts=described({"ham": "Ham is cured pork meat."}))
    backend = FakeSkillBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(intent_check=False, describe=False))
    result = engine.run("which food is vegan?")
    assert result.success, result.error
    assert result.answer == ["bread", "apple"]
    assert not any(m[0]["content"].startswith("You describe") for m in llm.calls)
    assert not any("fact" in c or "prompt_logodds" in c for c in lm_calls(result))


# ------------------------------------------------------------------------------------- model-resolved targets
def test_an_ambiguous_target_is_resolved_by_a_constrained_model_choice_and_recorded():
    program = "pick_place('cheese', 'bin')\npick_place('ham', '碗')\nanswer = 'ok'"
    llm = ScriptedLLM([fenced(program), "'trash_bin'", "'box'"], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin", "green_bin"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30))
    result = engine.run("bin the cheese, put the ham in the bowl")
    assert result.success, result.error
    assert backend.motions == [("cheese", "trash_bin"), ("ham", "box")]
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert fixes == [{"skill": "pick_place", "given": "bin", "grounded": "trash_bin", "by": "model"},
                     {"skill": "pick_place", "given": "碗", "grounded": "box", "by": "model"}]
    # 'bin' is asked among the two bins only; '碗' among every place, with the way out.
    assert "'trash_bin', 'green_bin'" in llm.calls[1][-1]["content"] and "'box'" not in llm.calls[1][-1]["content"]
    assert "'none of these'" in llm.calls[2][-1]["content"]
    assert not [e for e in result.trace if e.kind == "repair"]


def test_leaving_things_out_or_on_the_counter_is_no_motion_and_a_target_is_resolved_once_per_run():
    program = ("for obj in ['ham', 'bread', 'cheese', 'apple']:\n"
               "    if obj == 'ham':\n"
               "        pick_place(obj, 'out')\n"
               "    elif obj == 'cheese':\n"
               "        pick_place(obj, 'the counter')\n"
               "    else:\n"
               "        pick_place(obj, 'bin')\n"
               "answer = 'ok'")
    llm = ScriptedLLM([fenced(program), "'trash_bin'"], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin", "green_bin"), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run(
        "bin the bread and the apple; leave the ham out and the cheese on the counter")
    assert result.success, result.error
    assert backend.motions == [("bread", "trash_bin"), ("apple", "trash_bin")]
    assert backend.world["ham"] == "table" and backend.world["cheese"] == "table"
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert fixes == [{"skill": "pick_place", "given": "bin", "grounded": "trash_bin", "by": "model"}] * 2
    assert len(llm.calls) == 2  # the program, and 'bin' asked once although two objects went there


def test_a_target_the_model_says_means_no_place_goes_to_repair_and_objects_are_never_guessed():
    first = "pick_place('cheese', 'moon')\nanswer = 'ok'"
    llm = ScriptedLLM([fenced(first), "'none of these'", fenced("pick_place('unicorn', 'box')\nanswer = 1"),
                       fenced("pick_place('cheese', 'box')\nanswer = 'ok'")], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30))
    result = engine.run("put the cheese on the moon")
    assert result.success, result.error
    errors = [e.detail["error"] for e in result.trace if e.kind == "repair"]
    assert "no target named 'moon'" in errors[0] and "no object named 'unicorn'" in errors[1]
    assert backend.motions == [("cheese", "box")]
    assert not [e for e in result.trace if e.kind == "grounding"]


def test_without_the_grammar_technique_an_unknown_target_is_not_resolved():
    llm = ScriptedLLM([fenced("pick_place('cheese', 'bin')\nanswer = 'ok'")], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin", "green_bin"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30),
                    techniques=Techniques(grammar=False, repair=False))
    result = engine.run("bin the cheese")
    assert not result.success and "no target named 'bin'" in result.error and backend.motions == []


def test_a_plural_object_name_means_each_object_it_names_and_a_singular_stays_ambiguous():
    from coc_ros.core.names import plural_members, singular

    assert [singular(w) for w in ("tomatoes", "boxes", "cherries", "cubes", "glass", "egg")] == [
        "tomato", "box", "cherry", "cube", "glass", "egg"]
    names = ["tomato_1", "tomato_2", "egg_1", "red_cube", "blue_cube", "glass_bottle"]
    assert plural_members("tomatoes", names) == ["tomato_1", "tomato_2"]
    assert plural_members("the cubes", names) == ["red_cube", "blue_cube"]
    assert plural_members("eggs", names) == []  # one egg: not a plural of several
    assert plural_members("tomato", names) == []
    objects = {"tomato_1": "table", "tomato_2": "table", "egg_1": "table"}
    program = "pick_place('tomato_1', 'pot')\npick_place('tomatoes', 'pot')\npick_place('tomato', 'pot')\nanswer = 1"
    llm = ScriptedLLM([fenced(program)], None)
    backend = CountingBackend(objects=objects, containers=("pot", "bowl"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30), techniques=Techniques(repair=False))
    result = engine.run("put the tomatoes in the pot")
    assert backend.motions == [("tomato_1", "pot"), ("tomato_2", "pot")]  # tomato_1 was done: not repeated
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert fixes == [{"skill": "pick_place", "given": "tomatoes", "grounded": ["tomato_1", "tomato_2"], "by": "plural"}]
    assert not result.success and "no object named 'tomato'" in result.error  # the singular is still ambiguous


def test_a_target_naming_a_property_no_place_has_is_never_resolved():
    from coc_ros.core.names import resolution_options

    places = ["red_bowl", "blue_bowl", "box", "trash_bin", "recycling_bin"]
    assert resolution_options("bin", places) == ["trash_bin", "recycling_bin"]
    assert resolution_options("碗", places) == places
    assert resolution_options("purple box", places) == []  # 'box' exists, a purple one does not
    assert resolution_options("blue bucket", places) == ["blue_bowl"]  # another word for the kind of place
    assert resolution_options("red_container", places) == ["red_bowl"]
    assert resolution_options("yellow_bowl", places) == []
    # a second spelling of a colour is the colour the robot knows; colour names beyond the basic ones count too
    colours = {"pantry_cupboard": "brown", "sink_cupboard": "gray", "donation_box": "tan", "box": "red"}
    cupboards = ["pantry_cupboard", "sink_cupboard", "donation_box", "box"]
    assert resolution_options("the grey cupboard", cupboards, colours) == ["sink_cupboard"]
    assert resolution_options("the tan box", cupboards, colours) == ["donation_box"]
    assert resolution_options("the teal box", cupboards, colours) == []  # a colour no place has
    llm = ScriptedLLM([fenced("pick_place('cheese', 'purple box')\nanswer = 'ok'")], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin"), motion_s=0.0)
    engine = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30))
    result = engine.run("put the cheese in the purple box")  # the script has no repaired program: the run fails
    assert not result.success and backend.motions == []
    assert not [e for e in result.trace if e.kind == "grounding"]
    assert "no target named 'purple box'" in [e for e in result.trace if e.kind == "repair"][0].detail["error"]
    assert len(llm.calls) == 2  # the program and the repair request: the model was never asked to guess a place


# ------------------------------------------------------------------------------------- forgiving robot calls
def test_a_list_of_objects_is_moved_one_by_one_and_recorded():
    program = "pick_place(['ham', 'cheese'], 'box')\nanswer = 'done'"
    llm = ScriptedLLM([fenced(program)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin"), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run("put the ham and cheese away")
    assert result.success, result.error
    assert backend.motions == [("ham", "box"), ("cheese", "box")]
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert {"skill": "pick_place", "given": ["ham", "cheese"], "grounded": ["ham", "cheese"], "by": "list"} in fixes


def test_a_place_given_before_its_object_is_swapped_only_when_unambiguous():
    program = ("pick_place('box', 'ham')\npick_place('trash_bin', ['bread', 'apple'])\n"
               "answer = 'done'")
    llm = ScriptedLLM([fenced(program)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box", "trash_bin"), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run("tidy up")
    assert result.success, result.error
    assert backend.motions == [("ham", "box"), ("bread", "trash_bin"), ("apple", "trash_bin")]
    orders = [e.detail for e in result.trace if e.kind == "grounding" and e.detail.get("by") == "order"]
    assert orders[0] == {"skill": "pick_place", "given": ["box", "ham"], "grounded": ["ham", "box"], "by": "order"}
    # An object onto another object is a real request (stacking): never swapped.
    backend = CountingBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    with pytest.raises(Exception, match="no container named 'bread'"):  # the fake world cannot stack
        RobotAPI(backend).call("pick_place", ["ham", "bread"], {})


def test_a_wrong_call_says_how_the_skill_is_called():
    api = RobotAPI(FakeSkillBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0))
    with pytest.raises(Exception) as info:
        api.call("pick_place", ["box", "ham", "bread", "apple"], {})
    assert "Usage: pick_place(obj, target)" in str(info.value) and "once per object" in str(info.value)
    with pytest.raises(Exception) as info:
        api.call("get_color", ["an elephant"], {})
    message = str(info.value)
    assert "no object named 'an elephant'" in message and "color_of('an elephant')" in message


def test_a_pick_place_target_helper_chooses_among_places_with_the_camera_view():
    program = "target = find_container('the bin the colour of grass')\npick_place('apple', target)\nanswer = target"
    engine, backend, llm = robot_engine([fenced(program), "'green_bin'"], scores={})
    result = engine.run("put the apple in the bin the colour of grass")
    assert result.success, result.error
    prompt = llm.calls[1][-1]["content"]
    options = prompt.split("Options: ", 1)[1]
    assert "'green_bin'" in options and "'ham'" not in options  # places only, no objects
    assert "The camera sees: ham" in prompt


def test_a_repair_that_returns_the_same_program_is_not_run_again():
    bad = "pick_place('unicorn', 'box')\nanswer = 'done'"
    same_with_comment = "# try again\npick_place('unicorn', 'box')\n\nanswer = 'done'"
    fixed = "pick_place('apple', 'box')\nanswer = 'done'"
    llm = ScriptedLLM([fenced(bad), fenced(same_with_comment), fenced(fixed)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run("put the unicorn in the box")
    assert result.success, result.error
    assert backend.motions == [("apple", "box")]
    assert [e.detail["round"] for e in result.trace if e.kind == "repair"] == [1, 2]
    runs = [e for e in result.trace if e.kind == "line" and "unicorn" in e.source]
    assert len(runs) == 1  # the copy was not executed
    assert "The failing line: pick_place('unicorn', 'box')" in llm.calls[1][-1]["content"]
    assert "same program again" in llm.calls[2][-1]["content"]


def test_a_program_that_defines_the_robots_functions_runs_without_those_stubs():
    stubs = ("def detect_objects():\n    return ['unicorn']\n\n"
             "def pick_place(obj, target):\n    print(obj, target)\n\n"
             "for obj in detect_objects():\n    if obj == 'ham':\n        pick_place(obj, 'box')\nanswer = 'done'")
    llm = ScriptedLLM([fenced(stubs)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run("put the ham in the box")
    assert result.success, result.error
    assert backend.motions == [("ham", "box")]  # the robot's own detect_objects and pick_place ran
    assert len(llm.calls) == 1 and not [e for e in result.trace if e.kind == "repair"]
    fixes = [e.detail for e in result.trace if e.kind == "grounding" and e.detail.get("by") == "robot stub"]
    assert [(f["given"], f["grounded"]) for f in fixes] == [("def detect_objects(...)", "the robot's detect_objects"),
                                                            ("def pick_place(...)", "the robot's pick_place")]
    assert "def " not in result.program


def test_a_program_that_assigns_a_robot_function_is_repaired_not_run():
    shadowing = "detect_objects = ['ham']\nfor obj in detect_objects:\n    pick_place(obj, 'box')\nanswer = 'done'"
    fixed = "pick_place('ham', 'box')\nanswer = 'done'"
    llm = ScriptedLLM([fenced(shadowing), fenced(fixed)], {})
    backend = CountingBackend(objects=dict(LUNCH), containers=("box",), motion_s=0.0)
    result = Engine(llm, robot=RobotAPI(backend), limits=Limits(timeout_s=30)).run("put the ham in the box")
    assert result.success, result.error
    assert backend.motions == [("ham", "box")]
    repair = [e for e in result.trace if e.kind == "repair"][0]
    assert "defines detect_objects, which the robot provides" in repair.detail["error"]


# ------------------------------------------------------------------------------------------ shots by instruction kind
def test_a_goal_that_asks_how_many_gets_the_count_shot_and_others_an_unchanged_prompt():
    program = fenced("answer = 0")
    engine, _, llm = robot_engine([program, program], {}, techniques=Techniques(intent_check=False))
    engine.run("Tell me how many sandwiches there are, then put them in the box.")
    engine.run("Put the sandwiches in the box.")
    count_prompt, plain_prompt = llm.calls[0], llm.calls[1]
    shot = "kitchen utensils there are, then put them in the crock"
    assert any(shot in m["content"] for m in count_prompt)
    assert not any(shot in m["content"] for m in plain_prompt)
    # every other shot, in the same order, and the count shot last, right before the question
    assert count_prompt[:len(plain_prompt) - 1] == plain_prompt[:-1]
    assert shot in count_prompt[-3]["content"]
    # switched off (the ablation), a count goal sees the plain shots
    engine, _, llm = robot_engine([program], {}, techniques=Techniques(intent_check=False, kind_shots=False))
    engine.run("Tell me how many sandwiches there are, then put them in the box.")
    assert not any(shot in m["content"] for m in llm.calls[0])


def test_kind_shots_reject_an_unknown_kind():
    from coc_ros.engine.shots import load_examples
    with pytest.raises(ValueError, match="unknown instruction kind"):
        load_examples("robot_examples", frozenset({"negation"}))
    plain = load_examples("robot_examples")
    assert len(load_examples("robot_examples", frozenset({"count"}))) == len(plain) + 1


@pytest.mark.parametrize("text,asks", [
    ("桌上有几个鸡蛋？告诉我，然后把鸡蛋都放进碗里。", True),
    ("有幾個蘋果？", True),
    ("帮我把玩具收进玩具箱，不过要装电池的那几个先留在桌上。", False),  # 那几个: "those few", no question
    ("這幾個放到架子上。", False),
    ("Wie viele Äpfel sind da?", True),
    ("Put the apples in the bowl.", False),
])
def test_asks_for_count_reads_how_many_and_not_those_few(text, asks):
    from coc_ros.engine.prompts import asks_for_count
    assert asks_for_count(text) is asks
