"""LMulator call latency with and without reuse of the KV cache for the shared prompt prefix (local model).

Each call of one run shares the system text, the few-shot turns and the question; only the variables and the
call differ. With reuse, llama.cpp evaluates just that tail; without (`cache_prompt=False`) every call pays for
the whole prompt. Same calls, same model, greedy decoding: the replies must be identical.
"""
from __future__ import annotations

import statistics
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from coc_ros.engine.lmulator import LMulator
from coc_ros.engine.lmulator_protocol import SimRequest
from coc_ros.llm.local import LocalLLM

QUESTION = ("I have a chair, two potatoes, a cauliflower, a lettuce head, two tables, a cabbage, two onions, and "
            "three fridges. How many vegetables do I have?")
ITEMS = ["chair", "potato", "cauliflower", "lettuce head", "table", "cabbage", "onion", "fridge"]


def _requests() -> list[SimRequest]:
    return [SimRequest(run_id="cache-bench", question=QUESTION, program="", line=5, source="if is_vegetable(obj):",
                       kind="call", expression=f"is_vegetable({item!r})", state={"obj": repr(item)})
            for item in ITEMS]


def measure(cache_prompt: bool, rounds: int) -> dict[str, Any]:
    llm = LocalLLM(cache_prompt=cache_prompt)
    lm = LMulator(llm)
    latencies, replies = [], []
    for _ in range(rounds):
        for request in _requests():
            start = time.monotonic()
            replies.append(lm.simulate(request).value)
            latencies.append(time.monotonic() - start)
    return {"cache_prompt": cache_prompt, "calls": len(latencies), "first_s": latencies[0],
            "mean_rest_s": statistics.mean(latencies[1:]), "median_rest_s": statistics.median(latencies[1:]),
            "replies": replies}


def run_cache_bench(rounds: int = 1, console: Console | None = None) -> list[dict[str, Any]]:
    console = console or Console()
    rows = [measure(True, rounds), measure(False, rounds)]
    table = Table(title="LMulator call latency, local Qwen2.5-Coder-1.5B")
    for col in ("KV prefix reuse", "calls", "first call s", "mean of the rest s", "median of the rest s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row("on" if r["cache_prompt"] else "off", str(r["calls"]), f"{r['first_s']:.2f}",
                      f"{r['mean_rest_s']:.2f}", f"{r['median_rest_s']:.2f}")
    console.print(table)
    same = rows[0]["replies"] == rows[1]["replies"]
    console.print(f"identical replies with and without reuse: {same}; replies: {rows[0]['replies']}")
    return rows
