"""BBH's task names, answer kinds, task families and its algorithmic/NLP split: the facts every other module of
the package looks up, kept in one place so a new task is added by one edit here plus its data.

BBH has 23 tasks; two of them come in 3/5/7-object variants, giving 27 subtasks. A *task* below is one of the 27
subtask names lm-eval uses (``logical_deduction_five_objects``); its *family* is the BBH task it belongs to
(``logical_deduction``). Averages over the benchmark are taken over families, so the two multi-variant tasks
count once each, as in the Chain of Code paper's 23-task numbers.
"""
from __future__ import annotations

MULTIPLE_CHOICE = "multiple_choice"  # target "(A)".."(R)"

# task -> answer kind (how score() compares a prediction with the target)
KIND: dict[str, str] = {
    "boolean_expressions": "true_false",
    "causal_judgement": "yes_no",
    "date_understanding": MULTIPLE_CHOICE,
    "disambiguation_qa": MULTIPLE_CHOICE,
    "dyck_languages": "symbols",
    "formal_fallacies": "valid_invalid",
    "geometric_shapes": MULTIPLE_CHOICE,
    "hyperbaton": MULTIPLE_CHOICE,
    **{f"logical_deduction_{k}_objects": MULTIPLE_CHOICE for k in ("three", "five", "seven")},
    "movie_recommendation": MULTIPLE_CHOICE,
    "multistep_arithmetic_two": "number",
    "navigate": "yes_no",
    "object_counting": "number",
    "penguins_in_a_table": MULTIPLE_CHOICE,
    "reasoning_about_colored_objects": MULTIPLE_CHOICE,
    "ruin_names": MULTIPLE_CHOICE,
    "salient_translation_error_detection": MULTIPLE_CHOICE,
    "snarks": MULTIPLE_CHOICE,
    "sports_understanding": "yes_no",
    "temporal_sequences": MULTIPLE_CHOICE,
    **{f"tracking_shuffled_objects_{k}_objects": MULTIPLE_CHOICE for k in ("three", "five", "seven")},
    "web_of_lies": "yes_no",
    "word_sorting": "words",
}

TASKS: tuple[str, ...] = tuple(KIND)

# The 10 tasks a plain `coc-ros bench reasoning` ran before all 27 had programs; kept as a quick subset.
QUICK_TASKS: tuple[str, ...] = (
    "object_counting", "date_understanding", "logical_deduction_three_objects",
    "tracking_shuffled_objects_three_objects", "boolean_expressions", "multistep_arithmetic_two", "navigate",
    "sports_understanding", "web_of_lies", "word_sorting",
)


def check_task(task: str) -> None:
    """Raise KeyError with the list of known tasks for an unknown name."""
    if task not in KIND:
        raise KeyError(f"unknown BBH task {task!r}; known: {', '.join(TASKS)}")


def family(task: str) -> str:
    """The BBH task a subtask belongs to: ``logical_deduction_five_objects`` -> ``logical_deduction``."""
    check_task(task)
    for base in ("logical_deduction", "tracking_shuffled_objects"):
        if task.startswith(base + "_"):
            return base
    return task


FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(family(t) for t in TASKS))

# Suzgun et al. 2022 (BBH), Table 2: the tasks marked algorithmic; the other 11 are the NLP tasks. The Chain of
# Code paper reports its algorithmic/NLP averages over the same split.
ALGORITHMIC: frozenset[str] = frozenset({
    "boolean_expressions", "dyck_languages", "geometric_shapes", "logical_deduction", "multistep_arithmetic_two",
    "navigate", "object_counting", "reasoning_about_colored_objects", "temporal_sequences",
    "tracking_shuffled_objects", "web_of_lies", "word_sorting",
})
NLP: frozenset[str] = frozenset(FAMILIES) - ALGORITHMIC


def answer_kind(task: str) -> str:
    """'multiple_choice', 'true_false', 'yes_no', 'valid_invalid', 'number', 'words' or 'symbols'."""
    check_task(task)
    return KIND[task]
