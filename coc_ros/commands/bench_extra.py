"""`coc-ros bench soak` and `coc-ros bench safety` (wire with `register_bench(bench_app)` in commands/bench.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("soak", help="Many short goals through the real action server: leaks, processes, goals/s.")(soak)
    bench_app.command("safety", help="The adversarial sandbox suite: every escape attempt must be contained.")(safety)


def soak(
    n: int = typer.Option(200, "-n", "--goals", help="number of goals"),
    out: Optional[Path] = typer.Option(None, help="write the measurements as JSON here"),
) -> None:
    if n < 1:
        typer.echo("error: --goals must be >= 1", err=True)
        raise typer.Exit(2)
    from coc_ros.bench.soak import run_soak  # noqa: PLC0415

    report = run_soak(n)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
    if not report["ok"]:
        raise typer.Exit(1)


def safety(
    only: Optional[str] = typer.Option(None, help="comma-separated case names or categories"),
    out: Optional[Path] = typer.Option(None, help="write the rows as JSON here"),
) -> None:
    from coc_ros.bench.safety import CASES, run_safety_suite  # noqa: PLC0415

    cases = CASES
    if only:
        wanted = {w.strip() for w in only.split(",") if w.strip()}
        cases = [c for c in CASES if c.name in wanted or c.category in wanted]
        if not cases:
            typer.echo(f"error: no case or category matches {only!r}", err=True)
            raise typer.Exit(2)
    rows = run_safety_suite(cases)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2))
    if not all(r["ok"] for r in rows):
        raise typer.Exit(1)
