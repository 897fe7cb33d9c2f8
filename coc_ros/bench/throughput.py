"""Prompt-evaluation and generation speed of the local model (tokens/s), as quoted next to the latency table.

A fresh context and no prefix store, so every prompt token is evaluated: what a prompt costs when nothing is
cached. The prompt is the program writer's real prompt for a robot goal (~1,000 tokens)."""
from __future__ import annotations

import statistics
from typing import Any

from coc_ros.engine.prompts import coc_messages
from coc_ros.engine.shots import load_examples
from coc_ros.llm.local import LocalLLM

QUESTION = "Put the recyclable things in the recycling bin."
PLACES = ["recycling_bin", "trash_bin", "compost_bin"]


def measure_throughput(repeats: int = 3, max_tokens: int = 128, n_threads: int | None = None) -> dict[str, Any]:
    llm = LocalLLM(cache_prompt=False, persist_prefixes=False, slots=1, n_threads=n_threads)
    messages = coc_messages(QUESTION, list(load_examples("robot_examples")), PLACES)
    runs = []
    for _ in range(repeats):
        c = llm.complete(messages, max_tokens=max_tokens, stop=["<never stops>"])
        runs.append({"prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
                     "prefill_tok_s": c.prompt_tokens / c.prefill_s if c.prefill_s else 0.0,
                     "generation_tok_s": c.completion_tokens / c.generation_s if c.generation_s else 0.0})
    return {"load_s": round(llm.load_seconds, 2), "runs": runs,
            "prefill_tok_s": round(statistics.median(r["prefill_tok_s"] for r in runs), 1),
            "generation_tok_s": round(statistics.median(r["generation_tok_s"] for r in runs), 1)}
