"""How a run's `answer` value is told to a person (the action result's text, what the robot reports)."""
from __future__ import annotations

from typing import Any


def answer_text(value: Any) -> str:
    """The answer as text. A list of names is said with its count ('3 items: slug_pellets, shears, trowel'), so
    "lock them away and tell me how many" is answered by a program that set `answer` to the list it built; any
    other value is its plain `str`, and no answer is ''."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return f"{len(items)} item{'' if len(items) == 1 else 's'}" + (f": {', '.join(items)}" if items else "")
    return str(value)
