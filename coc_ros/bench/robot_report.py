"""Tables of the robot benchmark, computed from its records alone, so `coc-ros bench robot-report` reproduces
from the committed JSON exactly what the run printed.

- per split (dev, held-out, fresh, blind, sealed, vault, reserve, cellar, annex, loft, attic, porch, shed, barn,
  yard, dock, quay, pier, wharf) and row: success rate with a 95% Wilson interval, mean score, LM calls and seconds
  per task; a per-task breakdown for the dev split only (the held-out, fresh, blind, sealed, vault, reserve, cellar,
  annex, loft, attic, porch, shed, barn, yard, dock, quay, pier and wharf splits are reported as totals, so nobody
  tunes on their individual tasks);
- per-decision LMulator accuracy: every yes/no helper call on an object (`is_vegan('ham')`) whose helper maps to a
  scene attribute (`robot_decisions`) is compared with that attribute; a confusion table per attribute before
  calibration (raw log-odds > 0, where the engine recorded them) and after (the value the program used).
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from coc_ros.bench.robot_decisions import attribute_of, scene_attributes, truth
from coc_ros.bench.robot_tasks import SPLITS
from coc_ros.sim.scene import Scene, load_scene


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate (stays inside [0, 1] and is honest at 0/n and n/n)."""
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def summarize(records: list[Any]) -> dict[str, dict[str, Any]]:
    """{split: {row: numbers}} with split 'all' as well; records are RobotResult objects or their dicts."""
    out: dict[str, dict[str, Any]] = {}
    for split in (*SPLITS, "all"):
        rows = [r for r in records if split == "all" or _get(r, "split") == split]
        by_mode: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            by_mode[_get(r, "mode")].append(r)
        if not rows:
            continue
        out[split] = {}
        for mode, rs in by_mode.items():
            n, ok = len(rs), sum(bool(_get(r, "success")) for r in rs)
            lo, hi = wilson(ok, n)
            out[split][mode] = {"n": n, "successes": ok, "success_rate": round(100 * ok / n, 1),
                                "ci95": [round(100 * lo, 1), round(100 * hi, 1)],
                                "mean_score": round(100 * sum(_get(r, "score") for r in rs) / n, 1),
                                "lm_calls": round(sum(_get(r, "lm_calls") for r in rs) / n, 2),
                                "seconds": round(sum(_get(r, "seconds") for r in rs) / n, 2)}
    return out


def decision_tables(records: list[Any]) -> dict[str, dict[str, Counter]]:
    """{attribute: {'before': Counter, 'after': Counter}} over (truth, said) pairs as 'TP', 'FP', 'FN', 'TN'."""
    scenes: dict[str, Scene] = {}
    tables: dict[str, dict[str, Counter]] = defaultdict(lambda: {"before": Counter(), "after": Counter()})
    for r in records:
        name = _get(r, "scene")
        scene = scenes.setdefault(name, load_scene(name))
        attrs = scene_attributes(scene)
        for d in _get(r, "decisions") or []:
            if d.get("oracle"):  # the diagnostic row's answers come from the scene: they measure nothing
                continue
            args = d.get("args") or []
            attr = attribute_of(str(d.get("helper", "")), attrs)
            if attr is None or not args or not isinstance(args[0], str):
                continue
            fact = truth(scene, args[0], attr)
            said = _as_bool(d.get("value"))
            if fact is None or said is None:
                continue
            tables[attr]["after"][_cell(fact, said)] += 1
            if isinstance(d.get("raw_logodds"), (int, float)):
                tables[attr]["before"][_cell(fact, d["raw_logodds"] > 0)] += 1
    return dict(tables)


def print_report(records: list[Any], console: Console | None = None) -> dict[str, dict[str, Any]]:
    """Print the summary per split, the dev per-task table and the decision tables; return the summary."""
    console = console or Console()
    summary = summarize(records)
    for split, title in (("dev", "development split"), ("heldout", "held-out split (never tuned on)"),
                         ("fresh", "fresh split (new scenes, never tuned on)"),
                         ("blind", "blind split (written blind, never tuned on)"),
                         ("sealed", "sealed split (written sealed, never tuned on)"),
                         ("vault", "vault split (written sealed, never tuned on)"),
                         ("reserve", "reserve split (written sealed, never tuned on)"),
                         ("cellar", "cellar split (written sealed, never tuned on)"),
                         ("annex", "annex split (written sealed, never tuned on)"),
                         ("loft", "loft split (written sealed, never tuned on)"),
                         ("attic", "attic split (written sealed, never tuned on)"),
                         ("porch", "porch split (written sealed, never tuned on)"),
                         ("shed", "shed split (written sealed, never tuned on)"),
                         ("barn", "barn split (written sealed, never tuned on)"),
                         ("yard", "yard split (written sealed, never tuned on)"),
                         ("dock", "dock split (written sealed, never tuned on)"),
                         ("quay", "quay split (written sealed, never tuned on)"),
                         ("pier", "pier split (written sealed, never tuned on)"),
                         ("wharf", "wharf split (written sealed, never tuned on)"),
                         ("all", "all tasks")):
        if split not in summary:
            continue
        table = Table(title=f"Robot tasks in the simulator, {title}: success = every object where it belongs "
                            "(and the right count said)")
        for col in ("row", "success %", "95% CI", "mean score %", "LM calls / task", "s / task", "runs"):
            table.add_column(col, justify="left" if col == "row" else "right")
        for mode, s in summary[split].items():
            table.add_row(mode, f"{s['success_rate']:.1f}", f"{s['ci95'][0]:.0f}-{s['ci95'][1]:.0f}",
                          f"{s['mean_score']:.0f}", f"{s['lm_calls']:.1f}", f"{s['seconds']:.1f}", str(s["n"]))
        console.print(table)
    _print_tasks([r for r in records if _get(r, "split") == "dev"], console)
    _print_decisions(decision_tables(records), console)
    return summary


def _print_tasks(records: list[Any], console: Console) -> None:
    if not records:
        return
    modes = list(dict.fromkeys(_get(r, "mode") for r in records))
    table = Table(title="Development split per task: successes / seeds (mean seconds)")
    table.add_column("task")
    for m in modes:
        table.add_column(m, justify="right")
    for task in dict.fromkeys(_get(r, "task") for r in records):
        cells = []
        for m in modes:
            rs = [r for r in records if _get(r, "task") == task and _get(r, "mode") == m]
            secs = sum(_get(r, "seconds") for r in rs) / (len(rs) or 1)
            cells.append(f"{sum(bool(_get(r, 'success')) for r in rs)}/{len(rs)} ({secs:.0f}s)" if rs else "-")
        table.add_row(task, *cells)
    console.print(table)


def _print_decisions(tables: dict[str, dict[str, Counter]], console: Console) -> None:
    table = Table(title="LMulator yes/no decisions vs the scenes' scorer-only attributes (all rows, seeds; "
                        "TP FP FN TN, accuracy)")
    for col in ("attribute", "before calibration", "acc", "after (value used)", "acc"):
        table.add_column(col, justify="left" if col == "attribute" else "right")
    for attr in sorted(tables):
        cells = []
        for phase in ("before", "after"):
            c = tables[attr][phase]
            n = sum(c.values())
            cells += ([f"{c['TP']} {c['FP']} {c['FN']} {c['TN']}", f"{100 * (c['TP'] + c['TN']) / n:.0f}%"]
                      if n else ["-", "-"])
        table.add_row(attr, *cells)
    console.print(table if tables else "no LMulator yes/no decisions on scene objects in these records")


def _cell(fact: bool, said: bool) -> str:
    return ("T" if fact == said else "F") + ("P" if said else "N")


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().strip("'\"")
    return {"True": True, "False": False}.get(text)


def _get(record: Any, key: str) -> Any:
    return record[key] if isinstance(record, dict) else getattr(record, key)


def records_of(results: Iterable[dict[str, Any]], model: str | None = None) -> list[dict[str, Any]]:
    """The records of one model (the most recent model in the file when none is named)."""
    results = list(results)
    if not results:
        return []
    model = model or results[-1].get("model")
    return [r for r in results if r.get("model") == model]
