"""A backend that replays given strings in order: for unit tests and for reproducing a run exactly."""
from __future__ import annotations

import json
import threading
from pathlib import Path

from coc_ros.llm.base import Completion, LLMError, Message


class ScriptedLLM:
    """Returns the next string of a list for each call; running out is an LLMError, not a silent default."""

    name = "scripted"

    def __init__(self, replies: list[str]):
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise LLMError("a scripted LLM needs a JSON list of strings")
        self._replies = list(replies)
        self._lock = threading.Lock()
        self.calls: list[list[Message]] = []

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedLLM:
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise LLMError(f"scripted replies file not found: {p}") from None
        except json.JSONDecodeError as exc:
            raise LLMError(f"scripted replies file {p} is not JSON: {exc}") from None
        return cls(data)

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        with self._lock:
            self.calls.append(messages)
            if not self._replies:
                raise LLMError(f"scripted LLM ran out of replies after {len(self.calls) - 1} call(s)")
            text = self._replies.pop(0)
        return Completion(text=text, prompt_tokens=sum(len(m["content"]) // 4 for m in messages),
                          completion_tokens=len(text) // 4)

    @property
    def remaining(self) -> int:
        return len(self._replies)
