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
import ctypes
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

try:  # the backend needs llama-cpp-python; the rest of coc_ros must import without it
    import llama_cpp
    from llama_cpp import Llama, LlamaGrammar
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from coc_ros.llm.prefix_store import PrefixStore, model_checksum
except ImportError as _exc:
    LLAMA_IMPORT_ERROR: ImportError | None = _exc
else:
    LLAMA_IMPORT_ERROR = None

from coc_ros.config import cache_dir, default_model_path
from coc_ros.llm.base import Completion, LLMError, Message
from coc_ros.llm.grammar import choice_grammar

# score_options reads the last token's logits through llama-cpp-python's private context API (public logprobs
# need logits_all=True, >1 GB at this vocabulary); install.sh pins this version.
PINNED_LLAMA_CPP = "0.3.36"


class LocalLLM:
    name = "local"

    def __init__(self, model_path: str | Path | None = None, *, n_ctx: int = 4096, n_threads: int | None = None,
                 cache_prompt: bool = True, seed: int = 0, slots: int = 4, persist_prefixes: bool = True):
        path = Path(model_path) if model_path else default_model_path()
        if not path.is_file():
            raise LLMError(f"local model not found at {path}: run install.sh (it joins the model from PyPI)")
        if LLAMA_IMPORT_ERROR is not None:
            raise LLMError(f"llama-cpp-python is not installed ({LLAMA_IMPORT_ERROR}): run install.sh")
        if slots < 1:
            raise ValueError("slots must be >= 1")
        self.model_path = path
        self.cache_prompt = cache_prompt
        self._lock = threading.Lock()
        self._new_context = lambda: Llama(model_path=str(path), n_ctx=n_ctx,
                                          n_threads=n_threads or os.cpu_count() or 2, seed=seed, verbose=False)
        self._max_slots = slots if cache_prompt else 1
        self._slots: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._formatter: Any = None
        self._prefix_formatter: Any = None
        self.prefixes = (PrefixStore(cache_dir() / "kv", model_checksum(path))
                         if persist_prefixes and cache_prompt else None)
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

    def _prompt_text(self, llm: Any, messages: list[Message], generation_prompt: bool = True) -> str:
        """The chat prompt exactly as create_chat_completion would build it (the model's own template)."""
        if self._formatter is None:
            template = llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise LLMError("the local model has no chat template in its metadata")
            eos = llm._model.token_get_text(llm.token_eos())
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="")
            self._prefix_formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="",
                                                         add_generation_prompt=False)
        formatter = self._formatter if generation_prompt else self._prefix_formatter
        return formatter(messages=messages).prompt

    def _warm_prefix(self, llm: Any, messages: list[Message]) -> None:
        """Restore (or compute and save) the KV state of everything before the last message: the fixed part."""
        if self.prefixes is None or len(messages) < 2:
            return
        prefix = llm.tokenize(self._prompt_text(llm, messages[:-1], generation_prompt=False).encode("utf-8"),
                              add_bos=False, special=True)
        full = llm.tokenize(self._prompt_text(llm, messages).encode("utf-8"), add_bos=False, special=True)
        if full[: len(prefix)] == prefix and len(prefix) < len(full):
            self.prefixes.warm(llm, prefix)

    def _eval_prompt(self, llm: Any, tokens: list[int]) -> np.ndarray:
        """Evaluate a prompt reusing the longest prefix already in the KV cache; log-probs of the next token."""
        cached = llm.input_ids[: llm.n_tokens]
        limit = min(len(cached), len(tokens) - 1)  # always evaluate >= 1 token so the logits are this prompt's
        common = 0
        while common < limit and cached[common] == tokens[common]:
            common += 1
        llm.n_tokens = common
        llm.eval(tokens[common:])
        n_vocab = llm.n_vocab()
        pointer = llm._ctx.get_logits_ith(-1)
        logits = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(n_vocab,))
        logits = logits.astype(np.float64)
        return logits - (logits.max() + np.log(np.exp(logits - logits.max()).sum()))

    def score_options(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        """Sum of token log-probs of each option as the reply. One prompt evaluation serves every option's first
        token; a multi-token option costs one more single-token evaluation per extra token."""
        if not options:
            raise LLMError("score_options needs at least one option")
        with self._lock:
            llm = self._slot(messages)
            self._warm_prefix(llm, messages)
            prompt = llm.tokenize(self._prompt_text(llm, messages).encode("utf-8"), add_bos=False, special=True)
            if len(prompt) >= llm.n_ctx():
                raise LLMError(f"prompt of {len(prompt)} tokens exceeds the context window ({llm.n_ctx()})")
            first = self._eval_prompt(llm, prompt)
            scores: dict[str, float] = {}
            for option in options:
                tokens = llm.tokenize(option.encode("utf-8"), add_bos=False, special=False)
                if not tokens:
                    raise LLMError(f"option {option!r} has no tokens")
                if len(prompt) + len(tokens) >= llm.n_ctx():
                    raise LLMError(f"prompt and option of {len(prompt) + len(tokens)} tokens exceed the context "
                                   f"window ({llm.n_ctx()})")
                total = float(first[tokens[0]])
                for i in range(1, len(tokens)):
                    logprobs = self._eval_prompt(llm, prompt + tokens[:i])
                    total += float(logprobs[tokens[i]])
                scores[option] = total
            return scores

    def reply_logprob(self, messages: list[Message], reply: str) -> float:
        """log p(reply | messages) over all the reply's tokens (how well a program explains an instruction): here
        an option score is already a whole-sequence score, unlike a server's first-token top_logprobs."""
        return self.score_options(messages, [reply])[reply]

    def complete_choice(self, messages: list[Message], choices: list[str], *, many: bool = False,
                        max_tokens: int = 128) -> Completion:
        """Greedy decoding under a grammar that admits only repr(choice) (or a list of them)."""
        grammar_text = choice_grammar(choices, many=many)
        with self._lock:
            llm = self._slot(messages)
            self._warm_prefix(llm, messages)
            started = time.monotonic()
            try:
                grammar = LlamaGrammar.from_string(grammar_text, verbose=False)
                out = llm.create_completion(prompt=self._prompt_text(llm, messages), grammar=grammar,
                                            max_tokens=max_tokens, temperature=0.0, top_k=1)
            except Exception as exc:  # llama.cpp reports a grammar it cannot build as a generic exception
                raise LLMError(f"constrained decoding failed ({type(exc).__name__}: {exc})") from None
        usage = out.get("usage", {})
        return Completion(text=out["choices"][0].get("text") or "", prompt_tokens=usage.get("prompt_tokens", 0),
                          completion_tokens=usage.get("completion_tokens", 0), seconds=time.monotonic() - started)

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        return self._chat(messages, max_tokens=max_tokens, stop=stop, temperature=0.0, seed=None)

    def sample(self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.7,
               seed: int = 1) -> Completion:
        """A sampled reply (top-k 40, top-p 0.95): seeded, so a run can be reproduced."""
        if temperature <= 0:
            raise ValueError("sample needs a temperature > 0 (complete() is the greedy reply)")
        return self._chat(messages, max_tokens=max_tokens, stop=None, temperature=temperature, seed=seed)

    def _chat(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None, temperature: float,
              seed: int | None) -> Completion:
        sampling = ({"temperature": 0.0, "top_k": 1} if seed is None else
                    {"temperature": temperature, "top_k": 40, "top_p": 0.95, "seed": seed})
        with self._lock:
            llm = self._slot(messages)
            if not self.cache_prompt:
                llm.reset()
            else:
                self._warm_prefix(llm, messages)
            started = time.monotonic()
            llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
            try:
                out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, stop=stop or [],
                                                 **sampling)
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise LLMError(str(exc)) from None
            perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
        usage = out.get("usage", {})
        return Completion(text=out["choices"][0]["message"].get("content") or "",
                          prompt_tokens=usage.get("prompt_tokens", 0),
                          completion_tokens=usage.get("completion_tokens", 0),
                          seconds=time.monotonic() - started,
                          cached_tokens=max(0, usage.get("prompt_tokens", 0) - int(perf.n_p_eval)),
                          prefill_s=perf.t_p_eval_ms / 1000.0, generation_s=perf.t_eval_ms / 1000.0)
