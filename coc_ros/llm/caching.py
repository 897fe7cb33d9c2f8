"""Memoises completions by prompt: with greedy decoding the same prompt gives the same text, so benchmark modes
that share a step (coc-python, coc-lm and coc-interweave all generate the same program) compute it once."""
from __future__ import annotations

import json
import threading

from coc_ros.llm.base import Completion, LLMClient, Message, ReplyScorer, Sampler, ScoresUnavailable, supports


class CachingLLM:
    def __init__(self, inner: LLMClient):
        self.inner = inner
        self.name = inner.name
        self._cache: dict[str, Completion] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self._scores: dict[str, dict[str, float]] = {}

    def offers(self, capability: type) -> bool:
        """Exactly what the wrapped backend offers."""
        return supports(self.inner, capability)

    def score_options(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        key = json.dumps([messages, options], sort_keys=True)
        with self._lock:
            if key in self._scores:
                self.hits += 1
                return dict(self._scores[key])
        scores = self.inner.score_options(messages, options)
        with self._lock:
            self._scores[key] = dict(scores)
        return scores

    def reply_logprob(self, messages: list[Message], reply: str) -> float:
        if not supports(self.inner, ReplyScorer):
            raise ScoresUnavailable(f"the {self.inner.name} backend does not score whole replies")
        key = json.dumps([messages, reply, "reply"], sort_keys=True)
        with self._lock:
            if key in self._scores:
                self.hits += 1
                return self._scores[key]["reply"]
        value = self.inner.reply_logprob(messages, reply)
        with self._lock:
            self._scores[key] = {"reply": value}
        return value

    def sample(self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.7,
               seed: int = 1) -> Completion:
        """Seeded, so as cacheable as a greedy reply: benchmark modes sharing the step draw the same programs."""
        if not supports(self.inner, Sampler):
            raise ScoresUnavailable(f"the {self.inner.name} backend does not sample")
        key = json.dumps([messages, max_tokens, temperature, seed, "sample"], sort_keys=True)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self.hits += 1
                return cached
        completion = self.inner.sample(messages, max_tokens=max_tokens, temperature=temperature, seed=seed)
        with self._lock:
            self._cache[key] = completion
        return completion

    def complete_choice(self, messages: list[Message], choices: list[str], *, many: bool = False,
                        max_tokens: int = 128) -> Completion:
        key = json.dumps([messages, choices, many, max_tokens], sort_keys=True)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self.hits += 1
                return cached
        completion = self.inner.complete_choice(messages, choices, many=many, max_tokens=max_tokens)
        with self._lock:
            self._cache[key] = completion
        return completion

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
