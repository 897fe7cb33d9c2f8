"""BBH data layer: item format of all 27 subtasks, scoring, and the BBH few-shot prompts (the Chain of Code
programs are checked in test_bbh_fewshot.py).

The first run fetches the sources from PyPI (bbh.fetch_sources: ~370 MB download, ~40 s, cached under
coc_ros.config.cache_dir()/bench); later runs are offline and take a few seconds.
"""
from __future__ import annotations

import os
import re

import pytest

from coc_ros.bench import bbh
from coc_ros.bench.bbh import Item


@pytest.fixture(scope="module", autouse=True)
def sources():
    return bbh.fetch_sources()


# ------------------------------------------------------------------------------------------------ items

@pytest.mark.parametrize("task", bbh.TASKS)
def test_load_task_format(task):
    items = bbh.load_task(task, n=5, seed=0)
    assert len(items) == 5
    assert len({it.id for it in items}) == 5
    assert items == bbh.load_task(task, n=5, seed=0), "sampling must be deterministic"
    assert bbh.pool_size(task) >= 100
    kind = bbh.answer_kind(task)
    for it in items:
        assert it.task == task and it.id.startswith(task + "/")
        assert it.question and it.question == it.question.strip()
        assert bbh.score(task, it.target, it), (task, it.target)
        if kind == "multiple_choice":
            assert re.fullmatch(r"\([A-R]\)", it.target)
            block = it.question.split("\nOptions:\n", 1)[1].split("\n")
            assert block == [f"({chr(65 + i)}) {c}" for i, c in enumerate(it.choices)]
            assert it.target in [f"({chr(65 + i)})" for i in range(len(it.choices))]
        elif kind == "yes_no":
            assert it.target in it.choices
            if task == "sports_understanding":
                assert it.target in ("yes", "no")
                assert it.question.startswith('Is the following sentence plausible? "')
            else:
                assert it.target in ("Yes", "No")
            if task in ("navigate", "causal_judgement"):
                assert it.question.endswith("\nOptions:\n- Yes\n- No")
            if task == "web_of_lies":
                assert it.question.startswith("Question: ") and it.question.endswith("tell the truth?")
        elif kind == "true_false":
            assert it.target in ("True", "False") and it.question.endswith(" is")
            assert str(eval(it.question[: -len(" is")])) == it.target
        elif kind == "number":
            assert re.fullmatch(r"-?\d+", it.target)
            if task == "multistep_arithmetic_two":
                assert it.question.endswith(" =")
                assert str(eval(it.question[:-2])) == it.target
        elif kind == "words":
            assert it.question.startswith("Sort the following words alphabetically: List: ")
            assert it.target.split() == sorted(it.target.split())
        elif kind == "valid_invalid":
            assert it.target in ("valid", "invalid") and it.question.endswith("\nOptions:\n- valid\n- invalid")
        elif kind == "symbols":
            assert re.fullmatch(r"[)\]}>]( [)\]}>])*", it.target), it.target


def _shape(question: str) -> tuple[bool, str]:
    """Whether a question has an options block, and how its options are marked ("(A)" or "-")."""
    block = question.partition("\nOptions:\n")[2]
    return bool(block), block[:1]


@pytest.mark.parametrize("task", bbh.TASKS)
def test_items_look_like_bbh_exemplars(task):
    """Our items and BBH's own exemplars share their fixed wording, options layout and target format."""
    shots = bbh.fewshot_examples(task)
    questions = [q for q, _, _ in shots]
    head = os.path.commonprefix(questions)
    if task.startswith("logical_deduction_"):  # the 5/7-object variants share the 3-object exemplars
        head = head.replace("three", task.split("_")[-2])
    stems = [q.partition("\nOptions:\n")[0] for q in questions]
    tail = os.path.commonprefix([s[::-1] for s in stems])[::-1]
    targets = [final for _, _, final in shots]
    for it in bbh.load_task(task, n=5, seed=1):
        if len(head) >= 30:
            assert it.question.startswith(head), (task, head, it.question[:80])
        if len(tail) >= 20:
            assert it.question.partition("\nOptions:\n")[0].endswith(tail), (task, tail, it.question[-80:])
        assert _shape(it.question) == _shape(questions[0]), task
        assert _target_form(it.target) in {_target_form(t) for t in targets}, (task, it.target, targets)


def _target_form(target: str) -> str:
    for form, pattern in (("letter", r"\([A-R]\)"), ("int", r"-?\d+"), ("brackets", r"[)\]}>]( [)\]}>])*")):
        if re.fullmatch(pattern, target):
            return form
    if target in ("True", "False", "Yes", "No", "yes", "no", "valid", "invalid"):
        return "word:" + ("lower" if target.islower() else "title")
    return "words" if re.fullmatch(r"[a-z' ]+", target) else "other"


def test_seeds_and_sizes_differ():
    a = bbh.load_task("word_sorting", n=5, seed=0)
    b = bbh.load_task("word_sorting", n=5, seed=1)
    assert a != b
    assert len(bbh.load_task("causal_judgement", n=10_000, seed=0)) == bbh.pool_size("causal_judgement")
    with pytest.raises(KeyError):
        bbh.load_task("no_such_task", n=1, seed=0)


def test_all_23_tasks_are_covered():
    assert len(bbh.TASKS) == 27 and len(bbh.FAMILIES) == 23
    assert set(bbh.QUICK_TASKS) <= set(bbh.TASKS)
    assert len(bbh.ALGORITHMIC) == 12 and len(bbh.NLP) == 11 and bbh.ALGORITHMIC | bbh.NLP == set(bbh.FAMILIES)
    assert "option" in bbh.DIFFERENCES.lower() and "250" in bbh.DIFFERENCES


def test_tracking_question_matches_bbh_layout():
    it = bbh.load_task("tracking_shuffled_objects_three_objects", n=1, seed=0)[0]
    assert "\n\n" not in it.question and " \n" not in it.question
    assert re.search(r"\.\nAs the", it.question) or re.search(r"\.\nThroughout the", it.question)


# ------------------------------------------------------------------------------------------------ score

def _item(task, target, choices=None):
    return Item(task, f"{task}/x", "q", target, choices)


@pytest.mark.parametrize("task,target,choices,good,bad", [
    ("date_understanding", "(B)", ("11/11/2018", "11/12/2018"),
     ["(B)", "So the answer is (B).", " (b) ", "B", "B)", "the answer is: (B) 11/12/2018", "11/12/2018",
      "Let's see (A) is wrong. So the answer is (B)."],
     ["(A)", "A", "", "the answer is (A).", "11/11/2018"]),
    ("boolean_expressions", "False", ("True", "False"),
     ["False", "false", "So the answer is False.", " FALSE \n"], ["True", "So the answer is True.", "maybe"]),
    ("navigate", "No", ("Yes", "No"), ["No", "no.", "So the answer is No.", "False"], ["Yes", "", "Nope? yes"]),
    ("sports_understanding", "yes", ("yes", "no"), ["yes", "Yes", "So the answer is yes.", "plausible"],
     ["no", "implausible", "So the answer is no."]),
    ("object_counting", "6", None, ["6", "So the answer is 6.", "six", " 6 fruits"], ["5", "seven", "", "16"]),
    ("multistep_arithmetic_two", "-219", None, ["-219", "So the answer is -219.", "-219.0"],
     ["219", "-2190", "So the answer is 219."]),
    ("word_sorting", "arson aspect census", None,
     ["arson aspect census", "So the answer is arson aspect census.", "Arson, aspect, census",
      "  arson  aspect census"],
     ["aspect arson census", "arson aspect", "arson aspect census mugho"]),
    ("formal_fallacies", "invalid", ("valid", "invalid"), ["invalid", "So the answer is invalid.", "Invalid"],
     ["valid", "So the answer is valid.", ""]),
    ("dyck_languages", "] } ]", None, ["] } ]", "So the answer is ] } ].", "]}]", "`] } ]`"],
     ["] }", "} ] ]", "", "So the answer is ] } ] >."]),
    ("reasoning_about_colored_objects", "(R)", tuple("red orange yellow green blue brown magenta fuchsia mauve teal "
                                                     "turquoise burgundy silver gold black grey purple pink".split()),
     ["(R)", "So the answer is (R).", "pink", "R"], ["(A)", "red", "(Q)"]),
])
def test_score(task, target, choices, good, bad):
    it = _item(task, target, choices)
    for g in good:
        assert bbh.score(task, g, it), (task, g)
    for b in bad:
        assert not bbh.score(task, b, it), (task, b)


def test_score_non_string_answers():
    assert bbh.score("object_counting", 6, _item("object_counting", "6"))
    assert bbh.score("boolean_expressions", False, _item("boolean_expressions", "False"))
    assert bbh.score("web_of_lies", True, _item("web_of_lies", "Yes"))
    assert bbh.score("word_sorting", ["a", "b"], _item("word_sorting", "a b"))
    assert bbh.score("dyck_languages", ["]", "}"], _item("dyck_languages", "] }"))
    assert bbh.score("formal_fallacies", False, _item("formal_fallacies", "invalid"))
    assert not bbh.score("object_counting", None, _item("object_counting", "6"))


# ------------------------------------------------------------------------------------------------ prompts

@pytest.mark.parametrize("task", bbh.TASKS)
def test_fewshot_prompts(task):
    shots = bbh.fewshot_examples(task)
    assert len(shots) == 3
    cot = bbh.cot_fewshot(task)
    direct = bbh.direct_fewshot(task)
    for q, reasoning, final in shots:
        assert f"Q: {q}\nA: Let's think step by step.\n{reasoning}" in cot
        assert f"Q: {q}\nA: {final}\n\n" in direct
        assert reasoning.rstrip().endswith(f"So the answer is {final}.")
    assert cot.count("So the answer is") == 3 and direct.count("\nA: ") == 3
    assert "Let's think" not in direct and "So the answer is" not in direct
    assert bbh.cot_prompt(task, "QQ").endswith("Q: QQ\nA: Let's think step by step.\n")
    assert bbh.direct_prompt(task, "QQ").endswith("Q: QQ\nA:")
