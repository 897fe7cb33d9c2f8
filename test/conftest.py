"""Shared pytest fixtures: scripted LLMs and a quick engine factory."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from coc_ros.engine.runner import Engine
from coc_ros.core.types import Limits
from coc_ros.llm.scripted import ScriptedLLM
from coc_ros.robot.fake_backend import FakeSkillBackend


def fenced(program: str) -> str:
    return f"```python\n{program}\n```"


class CountingBackend(FakeSkillBackend):
    """The fake robot, recording every motion in order (to assert a motion was never repeated)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.motions: list[tuple[str, str]] = []

    def pick_place(self, obj, target, velocity_scaling=0.5):
        out = super().pick_place(obj, target, velocity_scaling)
        self.motions.append((obj, target))
        return out


@pytest.fixture
def run_program():
    """Run `program` through the engine with the given LMulator replies; returns (result, llm)."""

    def _run(program: str, replies: list[str] | None = None, mode: str = "coc-interweave", **limits):
        llm = ScriptedLLM([fenced(program)] + list(replies or []))
        engine = Engine(llm, limits=Limits(**{"timeout_s": 20, **limits}))
        return engine.run("test question", mode), llm

    return _run


@pytest.fixture
def script_file(tmp_path: Path):
    def _write(replies: list[str]) -> Path:
        path = tmp_path / "script.json"
        path.write_text(json.dumps(replies))
        return path

    return _write
