"""The one interface every LLM backend implements.

Chat messages in, text out. Keeping it this small lets the same engine run on llama.cpp in-process, any
OpenAI-compatible server, a ROS service (the lmulator node) or a scripted list of replies in tests.
"""
from __future__ import annotations

import dataclasses
from typing import Protocol

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


class LLMError(Exception):
    """The backend could not produce a completion (unreachable server, missing model, exhausted script)."""


@dataclasses.dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached_tokens: int = 0  # prompt tokens served from the KV cache (local backend), when known


class LLMClient(Protocol):
    """A chat-completion backend. Greedy decoding (temperature 0) unless the backend is told otherwise."""

    name: str

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        ...
