"""Scoring a prediction against a BBH target: BBH's exact match after "the answer is", with the few leniencies
listed in ``coc_ros/bench/data/bbh_differences.md`` (item 7), so a run's raw outputs can be re-scored later.
"""
from __future__ import annotations

import re
from typing import Any

from coc_ros.bench.bbh.items import LETTERS, Item
from coc_ros.bench.bbh.tasks import MULTIPLE_CHOICE, answer_kind

_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_BRACKETS = re.compile(r"[()\[\]{}<>]")


def _answer_span(prediction: str) -> str:
    text = str(prediction).strip()
    hits = list(re.finditer(r"answer is[:\s]*", text, re.I))
    if hits:
        text = text[hits[-1].end():]
    text = text.strip().strip("`'\"").strip()
    # drop a trailing sentence period (but keep "3.5"-like numbers intact)
    return re.sub(r"\.\s*$", "", text).strip()


def _first_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[0].strip() if lines else ""


def _norm(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s/()-]", " ", s.lower()).split())


def _mc_letter(span: str, item: Item) -> str | None:
    m = re.search(r"\(([A-R])\)", span, re.I)
    if m:
        return m.group(1).upper()
    m = re.fullmatch(r"\s*(?:option\s+)?([A-R])\s*[).:]?\s*", span, re.I)
    if m:
        return m.group(1).upper()
    if item.choices:
        s = _norm(span)
        for i, opt in enumerate(item.choices):
            if s and s == _norm(opt):
                return LETTERS[i]
    return None


def _bool_word(span: str, words: dict[str, bool]) -> bool | None:
    for t in re.findall(r"[a-z]+", span.lower()):
        if t in words:
            return words[t]
    return None


def _number(span: str, allow_words: bool) -> int | None:
    m = re.search(r"-?\d[\d,]*", span)
    if m:
        try:
            return int(m.group(0).replace(",", ""))
        except ValueError:
            return None
    if allow_words:
        for t in re.findall(r"[a-z]+", span.lower()):
            if t in _NUMBER_WORDS:
                return _NUMBER_WORDS[t]
    return None


def _words(span: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", re.sub(r"[\"'\[\]]", " ", span.lower())) if w]


_YES_NO = {"yes": True, "no": False, "true": True, "false": False, "plausible": True, "implausible": False}


def score(task: str, prediction: Any, item: Item) -> bool:
    """BBH-style correctness of ``prediction`` (raw model text or a program's ``answer``) for ``item``."""
    kind = answer_kind(task)
    if prediction is None:
        return False
    if isinstance(prediction, bool) and kind == "true_false":
        return str(prediction) == item.target
    if isinstance(prediction, bool) and kind in ("yes_no", "valid_invalid"):
        return prediction == (item.target.lower() in ("yes", "valid"))
    if isinstance(prediction, (list, tuple)) and kind in ("words", "symbols"):
        prediction = " ".join(map(str, prediction))
    span = _answer_span(str(prediction))
    if kind == MULTIPLE_CHOICE:
        return _mc_letter(span, item) == item.target.strip("()")
    line = _first_line(span)
    if kind == "true_false":
        got = _bool_word(line, {"true": True, "false": False})
        return got is not None and str(got) == item.target
    if kind == "yes_no":
        got = _bool_word(line, _YES_NO)
        return got is not None and got == (item.target.lower() == "yes")
    if kind == "valid_invalid":
        got = _bool_word(line, {"valid": True, "invalid": False})
        return got is not None and got == (item.target == "valid")
    if kind == "number":
        got = _number(line, allow_words=task == "object_counting")
        return got is not None and got == int(item.target)
    if kind == "words":
        return _words(line) == _words(item.target)
    if kind == "symbols":
        return bool(line) and _BRACKETS.findall(line) == _BRACKETS.findall(item.target)
    raise KeyError(kind)  # pragma: no cover - every kind in tasks.KIND is handled above
