"""Memoises completions by prompt: with greedy decoding the same prompt gives the same text, so benchmark modes
that share a step (coc-python, coc-lm and coc-interweave all generate the same program) compute it once."""
from __future__ import annotations

import json
import threading

from coc_ros.llm.base import Completion, LLMClient, Message


class CachingLLM:
    def __init__(self, inner: LLMClient):
        self.inner = inner
        self.name = inner.name
        self._cache: dict[str, Completion] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        key = json.dumps([messages, max_tokens, stop or []], sort_keys=True)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self.hits += 1
                return cached
        completion = self.inner.complete(messages, max_tokens=max_tokens, stop=stop)
        with self._lock:
            self._cache[key] = completion
        return completion
