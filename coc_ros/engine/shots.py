"""Few-shot programs shipped as data (coc_ros/engine/data/*.yaml), so prompt material is read, diffed and
reviewed as text, not as Python string literals."""
from __future__ import annotations

import functools
from importlib import resources

import yaml

from coc_ros.engine.robot_prompts import describe_seen, with_seen

# Kinds of instruction that get extra shots of their own (an item's `when:`), detected without the model.
KINDS = frozenset({"count"})


@functools.cache
def load_examples(name: str, kinds: frozenset[str] = frozenset()) -> tuple[tuple[str, str], ...]:
    """(question, program) pairs of coc_ros/engine/data/<name>.yaml. A robot example's `seen` list ([name, colour,
    label] per object) is shown after its question exactly as the live camera's objects are.

    An item with `when: <kind>` is shown only for an instruction of that kind, after the shots every instruction
    gets: the prompt of every other instruction stays byte for byte the same (and so does its KV-cache prefix),
    and the kind's pattern is the last thing the writer reads before the question."""
    unknown = set(kinds) - KINDS
    if unknown:
        raise ValueError(f"unknown instruction kind(s): {', '.join(sorted(unknown))}")
    text = resources.files("coc_ros.engine").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    items = yaml.safe_load(text) or []
    for item in items:
        if item.get("when") is not None and item["when"] not in KINDS:
            raise ValueError(f"{name}.yaml: shot with unknown `when: {item['when']}` (known: {sorted(KINDS)})")
    chosen = [i for i in items if i.get("when") is None] + [i for i in items if i.get("when") in kinds]
    return tuple((with_seen(str(item["question"]), describe_seen([tuple(o) for o in item.get("seen") or []])),
                   str(item["program"]).rstrip()) for item in chosen)
