"""The offline backend: Qwen2.5-Coder (GGUF from PyPI, joined by install.sh) run in-process by llama.cpp.

llama-cpp-python keeps the tokens of the previous prompt in its KV cache and only evaluates the part of a new
prompt after the longest common prefix, so LMulator calls that share the few-shot + question + program prefix
skip most prompt processing. A RAM cache of KV states (LlamaRAMCache) extends that to prompts that alternate,
e.g. program generation and LMulator calls, which have different prefixes. `cache_prompt=False` resets the
cache before each call (for measuring the gain).
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from coc_ros.config import default_model_path
from coc_ros.llm.base import Completion, LLMError, Message


class LocalLLM:
    name = "local"

    def __init__(self, model_path: str | Path | None = None, *, n_ctx: int = 4096, n_threads: int | None = None,
                 cache_prompt: bool = True, seed: int = 0, cache_bytes: int = 2 << 30):
        path = Path(model_path) if model_path else default_model_path()
        if not path.is_file():
            raise LLMError(f"local model not found at {path}: run install.sh (it joins the model from PyPI)")
        try:
            from llama_cpp import Llama, LlamaRAMCache  # noqa: PLC0415 - native import only when used
        except ImportError as exc:
            raise LLMError(f"llama-cpp-python is not installed ({exc}): run install.sh") from None
        self.model_path = path
        self.cache_prompt = cache_prompt
        self._lock = threading.Lock()
        started = time.monotonic()
        self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads or os.cpu_count() or 2,
                          seed=seed, verbose=False)
        if cache_prompt:
            self._llm.set_cache(LlamaRAMCache(capacity_bytes=cache_bytes))
        self.load_seconds = time.monotonic() - started

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        with self._lock:
            if not self.cache_prompt:
                self._llm.reset()
            started = time.monotonic()
            try:
                out = self._llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                                       top_k=1, stop=stop or [])
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise LLMError(str(exc)) from None
        usage = out.get("usage", {})
        return Completion(text=out["choices"][0]["message"].get("content") or "",
                          prompt_tokens=usage.get("prompt_tokens", 0),
                          completion_tokens=usage.get("completion_tokens", 0),
                          seconds=time.monotonic() - started)
