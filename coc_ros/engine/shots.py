"""Few-shot programs shipped as data (coc_ros/engine/data/*.yaml), so prompt material is read, diffed and
reviewed as text, not as Python string literals."""
from __future__ import annotations

import functools
from importlib import resources

import yaml

from coc_ros.engine.robot_prompts import describe_seen, with_seen


@functools.cache
def load_examples(name: str) -> tuple[tuple[str, str], ...]:
    """(question, program) pairs of coc_ros/engine/data/<name>.yaml. A robot example's `seen` list ([name, colour,
    label] per object) is shown after its question exactly as the live camera's objects are."""
    text = resources.files("coc_ros.engine").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    items = yaml.safe_load(text) or []
    return tuple((with_seen(str(item["question"]), describe_seen([tuple(o) for o in item.get("seen") or []])),
                   str(item["program"]).rstrip()) for item in items)
