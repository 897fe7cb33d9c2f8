"""Programs checked against what the camera reports: impossible perception comparisons go to repair before any
motion, a colour copied from a place's name is pointed out when nothing moved, and a place named by another word
for its kind is grounded without the model. Scripted model, fake robot."""
from __future__ import annotations

import ast

from conftest import CountingBackend, fenced
from coc_ros.core.program import parse_program
from coc_ros.core.types import Limits
from coc_ros.engine.prompts import helper_question
from coc_ros.engine.program_checks import (colour_conjuncts, escaped_apostrophes, impossible_comparisons,
                                           place_colours_used, spaced_names, without_colour_tests,
                                           without_robot_stubs)
from coc_ros.engine.runner import Engine
from coc_ros.engine.techniques import Techniques
from coc_ros.llm.scripted import ScriptedLLM
from coc_ros.robot.api import RobotAPI

BLOCKS = {"red_cube": "table", "blue_cube": "table", "red_cylinder": "table"}
COLOURS, LABELS = {"red", "blue"}, {"cube", "cylinder"}


def _run(llm: ScriptedLLM, backend: CountingBackend, instruction: str, robot: RobotAPI | None = None,
         **techniques: bool):
    """The engine on the fake robot (30 s limit) with the given techniques switched, run on one instruction."""
    return Engine(llm, robot=robot or RobotAPI(backend), limits=Limits(timeout_s=30),
                  techniques=Techniques(**techniques)).run(instruction)


def _yes_no(helper: str, **logodds: float) -> dict[str, dict[str, float]]:
    """Scripted scores of `helper(obj)` for each object: its Yes-vs-No log-odds."""
    return {helper_question(helper, [obj]): {"Yes": lo, "No": 0.0} for obj, lo in logodds.items()}


def _problems(program: str) -> list[str]:
    return impossible_comparisons(ast.parse(program), COLOURS, LABELS)


def test_a_comparison_with_a_value_the_camera_never_reports_is_found():
    always_true = _problems("for o in detect_objects():\n    if get_color(o) != 'sweet':\n        pick_place(o, 'box')")
    assert len(always_true) == 1 and "line 2" in always_true[0] and "always true" in always_true[0]
    assert "'blue', 'red'" in always_true[0] and "is_sweet(obj)" in always_true[0]
    bound = _problems("s = get_shape('red_cube')\nif s == 'round':\n    answer = 1")  # through a variable
    assert len(bound) == 1 and "always false" in bound[0] and "get_shape returns one of 'cube', 'cylinder'" in bound[0]
    assert _problems("if 'long' == get_shape('red_cube'):\n    answer = 1")  # either side of ==


def test_possible_values_and_other_comparisons_are_left_alone():
    assert _problems("if get_color(o) == 'red' and get_shape(o) == 'cube':\n    answer = 1") == []
    assert _problems("if get_color(o) in ['red', 'orange', 'yellow']:\n    answer = 1") == []  # some exist
    assert _problems("if is_sweet(o) == 'yes':\n    answer = 1") == []  # not a perception query
    assert impossible_comparisons(ast.parse("if get_color(o) == 'red':\n    answer = 1"), set(), set()) == []


def test_a_colour_in_a_places_name_used_to_select_objects_is_found():
    program = "for o in detect_objects():\n    if is_toy(o) and get_color(o) == 'blue':\n        pick_place(o, t)"
    assert place_colours_used(ast.parse(program), ["blue_crate", "red_toolbox", "box"]) == [("blue", "blue_crate")]
    assert place_colours_used(ast.parse("if get_color(o) != 'blue':\n    answer = 1"), ["blue_crate"]) == []
    assert place_colours_used(ast.parse("if get_color(o) == 'blue':\n    answer = 1"), ["box"]) == []


def test_an_impossible_comparison_is_repaired_before_any_motion():
    wrong = ("for o in detect_objects():\n    if get_color(o) not in ['sweet', 'salty']:\n"
             "        pick_place(o, 'box')\nanswer = 1")
    right = "for o in detect_objects():\n    if get_shape(o) == 'cube':\n        pick_place(o, 'box')\nanswer = 1"
    llm = ScriptedLLM([fenced(wrong), fenced(right)], {})
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, "put the cubes in the box", intent_check=False)
    assert result.success, result.error
    repairs = [e.detail["error"] for e in result.trace if e.kind == "repair"]
    assert len(repairs) == 1 and "'sweet', 'salty', a value it never returns here" in repairs[0]
    assert "'sweet'" in llm.calls[1][-1]["content"]  # the writer is told exactly what is wrong
    assert backend.motions == [("red_cube", "box"), ("blue_cube", "box")]


def test_one_impossible_value_becomes_the_helper_it_means():
    wrong = ("for o in detect_objects():\n    if get_shape(o) == 'round' and get_color(o) != 'sweet':  # keep me\n"
             "        pick_place(o, 'box')\nanswer = 1")
    scores = {**_yes_no("is_round", red_cube=-2.0, blue_cube=-2.0, red_cylinder=2.0),
              **_yes_no("is_sweet", **dict.fromkeys(BLOCKS, -2.0))}
    llm = ScriptedLLM([fenced(wrong)], scores)
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, "round ones away", intent_check=False, calibrate=False, describe=False)
    assert result.success, result.error
    assert "    if is_round(o) and not is_sweet(o):  # keep me" in result.program
    assert backend.motions == [("red_cylinder", "box")]
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert fixes == [{"skill": "program", "given": "get_shape(o) == 'round'", "grounded": "is_round(o)",
                      "by": "helper"},
                     {"skill": "program", "given": "get_color(o) != 'sweet'", "grounded": "not is_sweet(o)",
                      "by": "helper"}]
    assert not [e for e in result.trace if e.kind == "repair"]


def test_a_colour_spelled_otherwise_than_the_camera_is_respelled_and_recorded():
    objects = {"gray_mug": "table", "blue_mug": "table", "gray_cube": "table", "purple_cube": "table"}
    program = ("for o in detect_objects():\n    if get_color(o) in ('grey', 'violet') and get_shape(o) == 'mug':\n"
               "        pick_place(o, 'box')\n    elif is_grey(o):\n        pick_place(o, 'bin')\nanswer = 1")
    llm = ScriptedLLM([fenced(program)], {})  # no scores: a question to the model would fail the run
    backend = CountingBackend(objects=objects, containers=("box", "bin"), motion_s=0.0)
    result = _run(llm, backend, "the grey mugs in the box, other grey things in the bin", intent_check=False)
    assert result.success, result.error
    assert "get_color(o) in ('gray', 'purple')" in result.program
    assert backend.motions == [("gray_mug", "box"), ("gray_cube", "bin")]  # is_grey answered by the camera
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert fixes == [{"skill": "program", "given": "'grey'", "grounded": "'gray'", "by": "spelling"},
                     {"skill": "program", "given": "'violet'", "grounded": "'purple'", "by": "spelling"}]


def test_without_repair_the_program_runs_as_written():
    wrong = "for o in detect_objects():\n    if get_color(o) != 'sweet':\n        pick_place(o, 'box')\nanswer = 1"
    llm = ScriptedLLM([fenced(wrong)], {})
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, "put the cubes in the box", repair=False, intent_check=False)
    assert result.success and len(backend.motions) == 3  # coc-python's baseline: nothing checked, nothing fixed


def test_the_intent_reprompt_points_out_a_colour_copied_from_the_target_place():
    copied = ("for o in detect_objects():\n    if is_toy(o) and get_color(o) == 'blue':\n"
              "        pick_place(o, 'blue_bin')\nanswer = 'done'")
    fixed = "for o in detect_objects():\n    if is_toy(o):\n        pick_place(o, 'blue_bin')\nanswer = 'done'"
    instruction = "Put the toys in the bin the colour of the sky."
    scores = {instruction: {"Yes": 1.0, "No": -1.0},
              **_yes_no("is_toy", red_cube=2.0, blue_cube=-2.0, red_cylinder=-2.0)}
    llm = ScriptedLLM([fenced(copied), fenced(fixed)], scores)
    backend = CountingBackend(objects=dict(BLOCKS), containers=("blue_bin", "box"), motion_s=0.0)
    result = _run(llm, backend, instruction, calibrate=False, describe=False)
    assert result.success, result.error
    intent = [e.detail["message"] for e in result.trace if e.kind == "intent"]
    assert len(intent) == 1 and "'blue' is the colour of the place blue_bin" in intent[0]
    assert backend.motions == [("red_cube", "blue_bin")]


def test_the_intent_reprompt_says_what_each_test_answered_for_each_object():
    misnamed = ("for o in detect_objects():\n    if is_metal(o) and is_locked(o):\n"
                "        pick_place(o, 'box')\nanswer = 'done'")
    fixed = "for o in detect_objects():\n    if is_poisonous(o):\n        pick_place(o, 'box')\nanswer = 'done'"
    instruction = "Lock anything poisonous away in the box."
    scores = {instruction: {"Yes": 1.0, "No": -1.0},
              **_yes_no("is_metal", red_cube=2.0, blue_cube=-2.0, red_cylinder=-1.0),
              **_yes_no("is_locked", red_cube=-1.0),
              **_yes_no("is_poisonous", red_cube=-2.0, blue_cube=2.0, red_cylinder=-1.0)}
    llm = ScriptedLLM([fenced(misnamed), fenced(fixed)], scores)
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, instruction, calibrate=False, describe=False)
    assert result.success, result.error
    intent = [e.detail["message"] for e in result.trace if e.kind == "intent"]
    assert len(intent) == 1
    assert "is_metal(obj) answered True for red_cube and False for blue_cube, red_cylinder" in intent[0]
    assert "is_locked(obj) answered False for every object it was asked about (red_cube)" in intent[0]
    assert "is_poisonous" not in intent[0]  # only the program that moved nothing is described
    assert backend.motions == [("blue_cube", "box")]


def test_a_place_named_by_another_word_for_its_kind_is_grounded_without_the_model():
    llm = ScriptedLLM([fenced("pick_place('red_cube', 'toy box')\nanswer = 'ok'")], {})
    backend = CountingBackend(objects=dict(BLOCKS), containers=("toy_chest", "bookshelf"), motion_s=0.0)
    result = _run(llm, backend, "put the red cube in the toy box", intent_check=False)
    assert result.success, result.error
    assert backend.motions == [("red_cube", "toy_chest")]
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert fixes == [{"skill": "pick_place", "given": "toy box", "grounded": "toy_chest", "by": "words"}]
    assert len(llm.calls) == 1  # only the program: no model call to confirm


def test_a_quoted_list_variable_passed_to_pick_place_is_unquoted_and_recorded():
    program = ("cubes = [o for o in detect_objects() if get_shape(o) == 'cube']\n"
               "pick_place('cubes', 'box')  # the list, quoted\n"
               "answer = 'done'")
    llm = ScriptedLLM([fenced(program)], {})
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, "put the cubes in the box", intent_check=False)
    assert result.success, result.error
    assert backend.motions == [("red_cube", "box"), ("blue_cube", "box")]
    assert "pick_place(cubes, 'box')  # the list, quoted" in result.program  # edited in place, comment kept
    fixes = [e for e in result.trace if e.kind == "grounding" and e.detail.get("by") == "variable"]
    assert [(e.line, e.detail["given"], e.detail["grounded"]) for e in fixes] == [(2, "'cubes'", "cubes")]


def test_a_string_that_is_no_list_variable_stays_a_name():
    from coc_ros.engine.program_checks import quoted_variables

    tree = ast.parse("box = 'box'\nred_cube = 3\npick_place('red_cube', 'box')\nthings = get_things()\n"
                     "pick_place('things', 'box')")
    assert quoted_variables(tree, {"pick_place"}) == []  # red_cube is no list; `things` may hold anything


def test_checks_work_on_programs_with_pseudo_code_lines():
    """A line that is not Python (simulated by the LMulator) must not stop the checks, and edits keep it as written
    (measured: the checks parsed the raw text and crashed the run on a pseudo-code line)."""
    program = ("blocks = [o for o in detect_objects() if get_shape(o) == 'block']\n"
               "note which one's the smallest\n"
               "pick_place(blocks[0], 'box')\nanswer = 1")
    scores = _yes_no("is_block", **{o: 2.0 if o.endswith("cube") else -2.0 for o in BLOCKS})
    llm = ScriptedLLM([fenced(program), "{}"], scores)
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, "box a block", intent_check=False, calibrate=False, describe=False)
    assert result.success, result.error
    assert "if is_block(o)]\nnote which one's the smallest\n" in result.program
    assert backend.motions == [("red_cube", "box")]


class PaintedBackend(CountingBackend):
    """The fake robot whose places have colours, as a scene's containers do."""

    def __init__(self, colours: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.colours = colours

    def place_colors(self):
        return dict(self.colours)


def test_a_place_named_by_its_colour_and_kind_is_grounded_without_the_model():
    llm = ScriptedLLM([fenced("pick_place('red_cube', 'yellow_bucket')\nanswer = 'ok'")], {})
    backend = PaintedBackend({"tool_bucket": "yellow", "waste_bin": "grey"}, objects=dict(BLOCKS),
                             containers=("tool_bucket", "waste_bin"), motion_s=0.0)
    result = _run(llm, backend, "put the red cube in the yellow bucket", intent_check=False)
    assert result.success, result.error
    assert backend.motions == [("red_cube", "tool_bucket")]
    fixes = [e.detail for e in result.trace if e.kind == "grounding"]
    assert fixes == [{"skill": "pick_place", "given": "yellow_bucket", "grounded": "tool_bucket", "by": "colour"}]
    assert len(llm.calls) == 1  # only the program: no model call to confirm


def test_colour_words_of_other_languages_mean_the_english_colour():
    from coc_ros.core.names import colour_words, mentions_colour, resolution_options

    assert colour_words("contenitore giallo") == {"yellow"}
    assert colour_words("die gelben Kisten") == {"yellow"}  # an inflected form
    assert colour_words("黄色的柜子") == {"yellow"} and colour_words("노란 상자") == {"yellow"}
    assert colour_words("the grey box") == {"gray"} and colour_words("bac vert ou bleu") == {"green", "blue"}
    assert colour_words("rotate the vegan box") == set()  # whole words only: 'rot' is German red, 'rotate' is not
    assert mentions_colour("giallo") and not mentions_colour("the box for the staff")
    places = ["tool_bucket", "feed_bucket", "waste_bin"]
    colours = {"tool_bucket": "yellow", "feed_bucket": "green", "waste_bin": "grey"}
    assert resolution_options("contenitore giallo", places, colours) == ["tool_bucket"]
    assert resolution_options("gray bin", places, colours) == ["waste_bin"]  # 'gray' and 'grey' are one colour


def test_a_described_container_is_narrowed_to_the_places_its_words_leave():
    backend = PaintedBackend({"tool_bucket": "yellow", "feed_bucket": "green", "waste_bin": "grey"},
                             objects=dict(BLOCKS), containers=("tool_bucket", "feed_bucket", "waste_bin"),
                             motion_s=0.0)
    program = "target = find_container('giallo')\npick_place('red_cube', target)\nanswer = target"
    llm = ScriptedLLM([fenced(program)], {})
    result = _run(llm, backend, "metti il cubo rosso nel contenitore giallo", intent_check=False, translate=False)
    assert result.success, result.error
    assert backend.motions == [("red_cube", "tool_bucket")]
    assert len(llm.calls) == 1  # one place has the colour: decided without the model
    program = "target = find_container('the bucket for the chickens')\npick_place('red_cube', target)\nanswer = target"
    llm = ScriptedLLM([fenced(program), "'feed_bucket'"], {})
    backend.motions.clear()
    result = _run(llm, backend, "put the red cube in the bucket for the chickens", intent_check=False)
    assert result.success, result.error
    options = llm.calls[1][-1]["content"].split("Options: ", 1)[1]
    assert "'tool_bucket'" in options and "'feed_bucket'" in options and "'waste_bin'" not in options


def test_place_colours_decide_only_what_they_tell_apart():
    from coc_ros.core.names import resolution_options

    places = ["tool_bucket", "feed_bucket", "waste_bin"]
    colours = {"tool_bucket": "yellow", "feed_bucket": "dark green", "waste_bin": "grey"}
    assert resolution_options("yellow bucket", places, colours) == ["tool_bucket"]
    assert resolution_options("green bucket", places, colours) == ["feed_bucket"]  # a word of 'dark green'
    assert resolution_options("bucket", places, colours) == ["tool_bucket", "feed_bucket"]  # the colour decides
    assert resolution_options("red bucket", places, colours) == []  # a colour no place has: never guessed
    assert resolution_options("yellow bucket", places) == []  # without colours: a colour no place is named by
    backend = PaintedBackend({"tool_bucket": "yellow"}, objects=dict(BLOCKS), containers=("tool_bucket", "box"),
                             motion_s=0.0)
    llm = ScriptedLLM([fenced("pick_place('red_cube', 'red bucket')\nanswer = 'ok'")], {})
    result = _run(llm, backend, "put it in the red bucket")
    assert not result.success and backend.motions == []
    assert "no target named 'red bucket'" in [e for e in result.trace if e.kind == "repair"][0].detail["error"]


def test_a_variable_named_in_several_words_is_joined_wherever_it_is_used():
    program = ("objects = detect_objects()\n"
               "to box = []\n"
               "for obj in objects:\n"
               "    if get_shape(obj) == 'cube':  # to box later\n"
               "        pick_place(obj, 'box')\n"
               "        to box.append(obj)\n"
               "say('to box done')\n"
               "answer = to box\n")
    fixed, names = spaced_names(program)
    assert names == ["to_box"]
    assert fixed.splitlines()[1] == "to_box = []" and fixed.splitlines()[5].strip() == "to_box.append(obj)"
    assert "# to box later" in fixed and "say('to box done')" in fixed  # comments and strings untouched
    assert spaced_names("total = legs of a spider plus legs of a dog\n") == ("total = legs of a spider plus legs of "
                                                                             "a dog\n", [])  # a real pseudo-code line
    llm = ScriptedLLM([fenced(program)], {})
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, "put the cubes in the box", intent_check=False)
    assert result.success, result.error
    assert result.answer == ["red_cube", "blue_cube"] and len(llm.calls) == 1  # no LMulator call for the line
    assert [e.detail["by"] for e in result.trace if e.kind == "grounding"] == ["identifier"]


def test_a_list_answer_is_told_with_its_count():
    from coc_ros.core.answers import answer_text

    assert answer_text(["slug_pellets", "shears"]) == "2 items: slug_pellets, shears"
    assert answer_text(["shears"]) == "1 item: shears" and answer_text([]) == "0 items"
    assert answer_text(3) == "3" and answer_text("done") == "done" and answer_text(None) == ""
    assert answer_text([1, 2]) == "[1, 2]"  # not a list of names: as it is


def test_an_apostrophe_in_a_single_quoted_string_is_escaped_instead_of_simulated():
    program = ("say('that's the red one')\n"
               "for obj in detect_objects():\n"
               "    if obj != 'it's':  # not a real name: the comparison must still run as code\n"
               "        pick_place(obj, 'box')\n"
               "answer = 'done'\n")
    fixed, lines = escaped_apostrophes(program)
    assert lines == [1, 3] and "say('that\\'s the red one')" in fixed
    assert escaped_apostrophes("say(\"it's fine\")\n") == ("say(\"it's fine\")\n", [])  # already Python
    llm = ScriptedLLM([fenced(program)], {})  # no LMulator reply scripted: a pseudo-code line would fail the run
    backend = CountingBackend(objects={"red_cube": "table"}, containers=("box",), motion_s=0.0)
    robot = RobotAPI(backend)
    result = _run(llm, backend, "put the red cube in the box", robot=robot, intent_check=False)
    assert result.success, result.error
    assert robot.said == ["that's the red one"] and backend.motions == [("red_cube", "box")]
    assert [e.line for e in result.trace if e.kind == "grounding" and e.detail["by"] == "apostrophe"] == [1, 3]


def test_a_choice_among_places_sees_their_colours_only_when_it_is_about_colour():
    program = ("target = find_container('the crate that is the colour of grass')\n"
               "other = find_container('the crate for bottles')\n"
               "pick_place('red_cube', target)\nanswer = [target, other]")
    llm = ScriptedLLM([fenced(program), "'supply_crate'", "'bottle_crate'"], {})
    backend = PaintedBackend({"supply_crate": "green", "bottle_crate": "white", "green_bin": "green"},
                             objects=dict(BLOCKS), containers=("supply_crate", "bottle_crate", "green_bin"),
                             motion_s=0.0)
    result = _run(llm, backend, "put the red cube in the grass-coloured crate", intent_check=False)
    assert result.success, result.error
    assert backend.motions == [("red_cube", "supply_crate")]
    about_colour, not_about_colour = llm.calls[1][-1]["content"], llm.calls[2][-1]["content"]
    # only colours that add to a name are listed: green_bin's name already says green
    assert "The places' colours: supply_crate is green, bottle_crate is white." in about_colour
    assert "colours" not in not_about_colour


# ------------------------------------------------------------------------------------- colours never asked for
def test_a_colour_test_beside_another_test_is_found_and_removed_keeping_the_rest():
    program = ("keep = [o for o in detect_objects() if (is_a(o) or is_b(o)) and is_red(o)]\n"
               "for o in detect_objects():\n"
               "    if is_toy(o) and get_color(o) == 'brown' and not is_broken(o):\n"
               "        pick_place(o, 'box')\n"
               "only = [o for o in detect_objects() if get_color(o) == 'red' and is_grey(o)]\n")
    fixed, records = without_colour_tests(program, colour_conjuncts(ast.parse(program)))
    lines = fixed.splitlines()
    assert lines[0] == "keep = [o for o in detect_objects() if (is_a(o) or is_b(o))]"
    assert lines[2] == "    if is_toy(o) and not is_broken(o):"
    assert lines[4] == program.splitlines()[4]  # colours alone: nothing else would choose the objects
    assert [(r["line"], r["grounded"]) for r in records] == [(1, "(is_a(o) or is_b(o))"),
                                                              (3, "is_toy(o) and not is_broken(o)")]
    ast.parse(fixed)


CUBES_BY_COLOUR = ("for o in detect_objects():\n    if get_shape(o) == 'cube' and get_color(o) == 'red':\n"
                   "        pick_place(o, 'box')\nanswer = 'done'")


def _cubes_by_colour(instruction: str, *translation: str):
    """The red-cube program run on `instruction`; `translation` is the model's English for it, where asked (before
    the program is written)."""
    llm = ScriptedLLM([*translation, fenced(CUBES_BY_COLOUR)], {instruction: {"Yes": 1.0, "No": -1.0}})
    backend = CountingBackend(objects=dict(BLOCKS), containers=("box",), motion_s=0.0)
    result = _run(llm, backend, instruction)
    assert result.success, result.error
    return result, backend, llm


def test_a_colour_the_instruction_never_names_is_removed_before_any_motion_and_recorded():
    result, backend, llm = _cubes_by_colour("Put the cubes in the box.")
    assert sorted(backend.motions) == [("blue_cube", "box"), ("red_cube", "box")]
    fixes = [e.detail for e in result.trace if e.kind == "grounding" and e.detail.get("by") == "unasked colour"]
    assert fixes == [{"skill": "program", "given": "get_shape(o) == 'cube' and get_color(o) == 'red'",
                      "grounded": "get_shape(o) == 'cube'", "by": "unasked colour"}]
    assert [e.detail for e in result.trace if e.kind == "colour"] == [
        {"translation": "Put the cubes in the box.", "names_colour": False}]
    assert len(llm.calls) == 1  # English needs no translation: the program is the only model call


def test_a_colour_the_instruction_names_stays_and_needs_no_model_call():
    result, backend, llm = _cubes_by_colour("Put the red cubes in the box.")
    assert backend.motions == [("red_cube", "box")]
    assert not [e for e in result.trace if e.kind == "colour"]
    assert len(llm.calls) == 1  # the program only: no translation


def test_a_colour_in_a_language_without_known_colour_words_is_read_from_the_translation_and_kept():
    result, backend, llm = _cubes_by_colour("Kırmızı küpleri kutuya koy.", "Put the red cubes in the box.")
    assert backend.motions == [("red_cube", "box")]
    assert [e.detail["names_colour"] for e in result.trace if e.kind == "colour"] == [True]
    assert len(llm.calls) == 2  # one translation, for the program writer and the colour check both


def test_without_robot_stubs_removes_whole_top_level_definitions_only():
    program = ("import functools\n@functools.lru_cache\ndef get_color(obj):\n    return 'red'\n"
               "def is_red(obj):\n    def pick_place(a, b):\n        return a\n    return get_color(obj) == 'red'\n"
               "answer = is_red('x')\n")
    edited, records = without_robot_stubs(program, parse_program(program).tree,
                                          frozenset({"get_color", "pick_place"}))
    assert edited == ("import functools\ndef is_red(obj):\n    def pick_place(a, b):\n        return a\n"
                      "    return get_color(obj) == 'red'\nanswer = is_red('x')\n")
    assert records == [{"line": 3, "given": "def get_color(...)", "grounded": "the robot's get_color"}]
    assert without_robot_stubs("answer = 1\n", parse_program("answer = 1\n").tree, frozenset({"get_color"})) == (
        "answer = 1\n", [])
