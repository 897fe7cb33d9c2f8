"""`coc-ros bench soak`, `coc-ros bench safety` and `coc-ros bench latency` (wired by `register_bench(bench_app)` in
commands/bench.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import typer


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("soak", help="Many short goals through the real action server: leaks, processes, goals/s.")(soak)
    bench_app.command("safety", help="The adversarial sandbox suite: every escape attempt must be contained.")(safety)
    bench_app.command("latency", help="Goal -> accepted, first feedback, program, first motion, result (cold and "
                      "warm) through the real nodes, with every LM call's time.")(latency)
    bench_app.command("throughput", help="The local model's prompt-evaluation and generation speed (tokens/s), "
                      "nothing cached.")(throughput)


def throughput(
    repeats: int = typer.Option(3, help="measurements (the median is reported)"),
    out: Path | None = typer.Option(None, help="write the measurements as JSON here"),
) -> None:
    from coc_ros.bench.throughput import measure_throughput

    report = measure_throughput(repeats)
    typer.echo(f"prompt evaluation {report['prefill_tok_s']} tok/s, generation {report['generation_tok_s']} tok/s "
               f"(median of {repeats}; model load {report['load_s']} s)")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))


def soak(
    n: int = typer.Option(200, "-n", "--goals", help="number of goals"),
    out: Path | None = typer.Option(None, help="write the measurements as JSON here"),
) -> None:
    if n < 1:
        typer.echo("error: --goals must be >= 1", err=True)
        raise typer.Exit(2)
    from coc_ros.bench.soak import run_soak

    report = run_soak(n)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
    if not report["ok"]:
        raise typer.Exit(1)


def safety(
    only: str | None = typer.Option(None, help="comma-separated case names or categories"),
    out: Path | None = typer.Option(None, help="write the rows as JSON here"),
) -> None:
    from coc_ros.bench.safety import CASES, run_safety_suite

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


def latency(
    llm: str = typer.Option("local", "--llm", help="local | openai | scripted:PATH (replies for every goal)"),
    llm_options: str = typer.Option("{}", help="JSON object for the LLM backend, e.g. '{\"n_threads\": 2}'"),
    backend: str = typer.Option("sim", help="skill backend: sim (MuJoCo arm) | fake (no physics)"),
    scene: str = typer.Option("blocks", help="built-in scene name or path to a scene YAML"),
    perception: str = typer.Option("camera", help="camera | ground_truth"),
    instruction: str = typer.Option("put the red cube in the trash bin", help="the goal sent each time"),
    goals: int = typer.Option(2, help="goals in a row: the first is cold, the others warm"),
    out: Path | None = typer.Option(Path("runs/bench_latency.json"), help="write the measurements as JSON here"),
    logs: Path | None = typer.Option(Path("runs/bench_latency_logs"), help="keep node logs, params, bags here"),
) -> None:
    if goals < 1:
        typer.echo("error: --goals must be >= 1", err=True)
        raise typer.Exit(2)
    try:
        options = json.loads(llm_options or "{}")
        if not isinstance(options, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        typer.echo(f"error: --llm-options: {exc}", err=True)
        raise typer.Exit(2) from None
    if os.sep in scene or scene.endswith((".yaml", ".yml")):
        scene = str(Path(scene).expanduser().resolve())
    from coc_ros.bench.latency import Setup, run_latency

    report = run_latency(Setup(llm=llm, llm_options=options, backend=backend, scene=scene, perception=perception,
                               instruction=instruction, goals=goals), out=out, logs=logs)
    if not all(g["success"] for g in report["goals"]):
        raise typer.Exit(1)
