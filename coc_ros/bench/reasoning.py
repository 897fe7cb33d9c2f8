"""The reasoning benchmark: BIG-Bench-Hard-style questions through every mode with the same model.

Modes run over identical items. Greedy decoding makes program generation identical across the three CoC modes,
so generation is computed once and shared (CachingLLM); LM calls and tokens are still counted per mode as if
each mode had made them, so the reported costs are what a single-mode user would pay. Results are written to
JSON after every item, so an interrupted run loses nothing.
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from coc_ros.bench import bbh_data
from coc_ros.bench.coc_fewshot import coc_examples
from coc_ros.engine.prompts import FewShot
from coc_ros.engine.runner import Engine
from coc_ros.core.types import Limits, Mode
from coc_ros.llm.base import LLMClient
from coc_ros.llm.caching import CachingLLM

PAPER = {"direct": 55, "cot": 72, "coc-interweave": 84, "coc-python": 48, "coc-lm": 63}
# Order matters only for speed: coc-interweave generates the programs the other CoC modes reuse.
MODE_ORDER = ["coc-interweave", "coc-python", "coc-lm", "direct", "cot"]


@dataclasses.dataclass
class ItemResult:
    task: str
    item_id: str
    mode: str
    correct: bool
    prediction: str
    target: str
    lm_calls: int
    tokens: int
    seconds: float
    error: str


def run_reasoning_bench(llm: LLMClient, *, modes: list[str], tasks: list[str], limit: int, seed: int,
                        out: Path, limits: Limits | None = None, console: Console | None = None) -> dict[str, Any]:
    console = console or Console()
    bbh_data.fetch_sources()
    modes = [m for m in MODE_ORDER if m in modes] + [m for m in modes if m not in MODE_ORDER]
    for m in modes:
        Mode.parse(m)
    items = {t: bbh_data.load_task(t, limit, seed) for t in tasks}
    shared = CachingLLM(llm)
    engine = Engine(shared, limits=limits or Limits(timeout_s=300))
    results = _resume(out, modes, tasks, limit, seed)
    done = {(r.task, r.item_id, r.mode) for r in results}
    meta = {"llm": llm.name, "model": str(getattr(llm, "model_path", getattr(llm, "model", ""))), "limit": limit,
            "seed": seed, "tasks": tasks, "modes": modes, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "differences_from_bbh": bbh_data.DIFFERENCES}
    total = sum(len(v) for v in items.values()) * len(modes)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        bar = progress.add_task("reasoning", total=total, completed=len(done))
        # Item-major order: an interrupted run still has every mode on the same items. The local backend's
        # RAM cache of KV states keeps each mode's few-shot prefix warm across the alternation.
        for task, task_items in items.items():
            fewshot = FewShot(coc_examples=coc_examples(task), direct_prompt=bbh_data.direct_fewshot(task),
                              cot_prompt=bbh_data.cot_fewshot(task))
            for item in task_items:
                for mode in modes:
                    if (task, item.id, mode) in done:
                        continue
                    progress.update(bar, description=f"{task[:28]:<28} {mode:<15}")
                    run = engine.run(item.question, mode, fewshot=fewshot)
                    prediction = run.completion if mode in ("direct", "cot") else _as_text(run.answer)
                    correct = run.success and bbh_data.score(task, prediction, item)
                    results.append(ItemResult(task=task, item_id=item.id, mode=mode, correct=correct,
                                              prediction=_as_text(run.answer)[:200], target=item.target,
                                              lm_calls=run.lm_calls, tokens=run.prompt_tokens + run.completion_tokens,
                                              seconds=round(run.seconds, 2), error=run.error[:300]))
                    _write(out, meta, results)
                    progress.advance(bar)
    summary = summarize(results, modes, tasks)
    _write(out, meta, results, summary)
    print_table(summary, modes, tasks, console)
    console.print(f"results: {out}")
    return summary


def _resume(out: Path, modes: list[str], tasks: list[str], limit: int, seed: int) -> list[ItemResult]:
    """Results of an earlier, interrupted run with the same settings (so a long benchmark can continue)."""
    if not out.exists():
        return []
    try:
        data = json.loads(out.read_text())
    except json.JSONDecodeError:
        return []
    meta = data.get("meta", {})
    if (meta.get("limit"), meta.get("seed")) != (limit, seed):
        return []
    return [ItemResult(**r) for r in data.get("results", []) if r["mode"] in modes and r["task"] in tasks]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value) if value is not None else ""


def _write(out: Path, meta: dict[str, Any], results: list[ItemResult], summary: dict[str, Any] | None = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "summary": summary, "results": [dataclasses.asdict(r) for r in results]},
                              indent=1))
    tmp.replace(out)


def summarize(results: list[ItemResult], modes: list[str], tasks: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for mode in modes:
        rows = [r for r in results if r.mode == mode]
        per_task = {}
        for task in tasks:
            tr = [r for r in rows if r.task == task]
            per_task[task] = round(100 * sum(r.correct for r in tr) / len(tr), 1) if tr else None
        n = len(rows) or 1
        summary[mode] = {
            "accuracy": round(100 * sum(r.correct for r in rows) / n, 1), "per_task": per_task, "n": len(rows),
            "lm_calls": round(sum(r.lm_calls for r in rows) / n, 2), "tokens": round(sum(r.tokens for r in rows) / n),
            "seconds": round(sum(r.seconds for r in rows) / n, 2),
            "errors": sum(1 for r in rows if r.error),
        }
    return summary


def print_table(summary: dict[str, Any], modes: list[str], tasks: list[str], console: Console) -> None:
    table = Table(title="Reasoning benchmark (accuracy %, per-question means)")
    table.add_column("task")
    for mode in modes:
        table.add_column(mode, justify="right")
    for task in tasks:
        table.add_row(task, *[_fmt(summary[m]["per_task"].get(task)) for m in modes])
    table.add_row("[bold]overall[/bold]", *[f"[bold]{summary[m]['accuracy']:.1f}[/bold]" for m in modes])
    table.add_row("paper (davinci-003)", *[str(PAPER.get(m, "")) for m in modes])
    table.add_row("LM calls / q", *[f"{summary[m]['lm_calls']:.1f}" for m in modes])
    table.add_row("tokens / q", *[str(summary[m]["tokens"]) for m in modes])
    table.add_row("seconds / q", *[f"{summary[m]['seconds']:.1f}" for m in modes])
    table.add_row("runs with errors", *[str(summary[m]["errors"]) for m in modes])
    console.print(table)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
