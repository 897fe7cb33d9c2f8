"""The offline backend: Qwen2.5-Coder (GGUF from PyPI, joined by install.sh) run in-process by llama.cpp.

llama-cpp-python keeps the tokens of the previous prompt in its KV cache and only evaluates the part of a new
prompt after the longest common prefix, so LMulator calls that share the few-shot + question + program prefix
skip most prompt processing. Prompts of different kinds alternate within a run (program generation, then
LMulator calls, each with its own system text and shots), so the backend keeps a few llama.cpp contexts
("slots", like a multi-slot server) and sends each prompt to the slot that served the same system text last:
every kind keeps its own prefix warm. The weights are memory-mapped once and shared by all slots; each slot
adds its KV cache and logits buffer (~0.45 GB at n_ctx 4096). llama-cpp-python's LlamaRAMCache was tried and
rejected: each saved state copies the logits buffer, and a benchmark grew to 18 GB RSS.
`cache_prompt=False` resets the context before each call (for measuring the gain).
"""
from __future__ import annotations

import collections
import os
import threading
import time
from pathlib import Path
from typing import Any

from coc_ros.config import default_model_path
from coc_ros.llm.base import Completion, LLMError, Message


class LocalLLM:
    name = "local"

    def __init__(self, model_path: str | Path | None = None, *, n_ctx: int = 4096, n_threads: int | None = None,
                 cache_prompt: bool = True, seed: int = 0, slots: int = 4):
        path = Path(model_path) if model_path else default_model_path()
        if not path.is_file():
            raise LLMError(f"local model not found at {path}: run install.sh (it joins the model from PyPI)")
        try:
            from llama_cpp import Llama  # noqa: PLC0415 - native import only when the local model is used
        except ImportError as exc:
            raise LLMError(f"llama-cpp-python is not installed ({exc}): run install.sh") from None
        if slots < 1:
            raise ValueError("slots must be >= 1")
        self.model_path = path
        self.cache_prompt = cache_prompt
        self._lock = threading.Lock()
        self._new_context = lambda: Llama(model_path=str(path), n_ctx=n_ctx,
                                          n_threads=n_threads or os.cpu_count() or 2, seed=seed, verbose=False)
        self._max_slots = slots if cache_prompt else 1
        self._slots: collections.OrderedDict[str, Any] = collections.OrderedDict()
        started = time.monotonic()
        self._slots[""] = self._new_context()
        self.load_seconds = time.monotonic() - started

    def _slot(self, messages: list[Message]) -> Any:
        """The context that last served this system text (LRU), so its prompt prefix is still in the KV cache."""
        key = messages[0]["content"] if messages and messages[0].get("role") == "system" else ""
        if key in self._slots:
            self._slots.move_to_end(key)
            return self._slots[key]
        if len(self._slots) < self._max_slots:
            context = self._new_context()
        else:
            _, context = self._slots.popitem(last=False)  # reuse the least recently used context
        self._slots[key] = context
        return context

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        with self._lock:
            llm = self._slot(messages)
            if not self.cache_prompt:
                llm.reset()
            started = time.monotonic()
            try:
                out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                                 top_k=1, stop=stop or [])
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise LLMError(str(exc)) from None
        usage = out.get("usage", {})
        return Completion(text=out["choices"][0]["message"].get("content") or "",
                          prompt_tokens=usage.get("prompt_tokens", 0),
                          completion_tokens=usage.get("completion_tokens", 0),
                          seconds=time.monotonic() - started)
