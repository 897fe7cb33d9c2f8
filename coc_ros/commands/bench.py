"""`coc-ros bench reasoning|robot|lmulator-cache`: benchmarks that print tables and write JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

bench_app = typer.Typer(help="Benchmarks (accuracy, cost, speed); each prints a table and writes JSON.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    from coc_ros.commands.bench_extra import register_bench

    register_bench(bench_app)
    app.add_typer(bench_app, name="bench")


def _llm(spec: Optional[str], config: Optional[str]):
    from coc_ros.engine.settings import llm_from_config, load_engine_config

    return llm_from_config(load_engine_config(config), spec)


@bench_app.command("reasoning", help="BIG-Bench Hard questions through each mode with the same model. Resumable: "
                   "finished runs are journaled under --runs-dir and a rerun of the same command continues where a "
                   "killed one stopped (run it in the background with nohup; without a terminal it logs one line "
                   "per question).")
def reasoning(
    modes: str = typer.Option("direct,cot,coc-interweave", help="comma-separated modes"),
    tasks: Optional[str] = typer.Option(None, help="comma-separated BBH tasks, 'quick' for 10 of them or 'all' "
                                                   "(default: all 27 subtasks of BBH's 23 tasks)"),
    limit: int = typer.Option(8, help="questions per task"),
    seed: int = typer.Option(0, help="sampling seed"),
    llm: Optional[str] = typer.Option(None, "--llm", help="local | openai | scripted:PATH"),
    config: Optional[str] = typer.Option(None, help="engine YAML"),
    out: Path = typer.Option(Path("runs/bench_reasoning.json"), help="JSON results file (written at the end)"),
    runs_dir: Path = typer.Option(Path("runs/bench_reasoning"), help="journal folder (one JSONL per model)"),
    rescore: Optional[Path] = typer.Option(None, help="re-score this results JSON and print its tables (README "
                                                      "markdown included); runs no model"),
) -> None:
    from coc_ros.bench import bbh
    from coc_ros.bench.reasoning import rescore as rescore_file
    from coc_ros.bench.reasoning import run_reasoning_bench

    if rescore is not None:
        rescore_file(rescore)
        return
    named = {"quick": list(bbh.QUICK_TASKS), "all": list(bbh.TASKS), None: list(bbh.TASKS)}
    task_list = named[tasks] if tasks in named else [t.strip() for t in tasks.split(",")]
    unknown = [t for t in task_list if t not in bbh.TASKS]
    if unknown or limit < 1:
        Console(stderr=True).print(f"[red]error:[/red] unknown task(s) {unknown}; known: {', '.join(bbh.TASKS)}"
                                   if unknown else "[red]error:[/red] --limit must be >= 1")
        raise typer.Exit(2)
    run_reasoning_bench(_llm(llm, config), modes=[m.strip() for m in modes.split(",")], tasks=task_list,
                        limit=limit, seed=seed, out=out, runs_dir=runs_dir)


@bench_app.command("lmulator-cache", help="LMulator latency with and without KV-cache reuse of the prompt prefix.")
def lmulator_cache(rounds: int = typer.Option(1, help="passes over the 8 calls")) -> None:
    from coc_ros.bench.lmulator_cache import run_cache_bench

    run_cache_bench(rounds)


@bench_app.command("robot", help="Natural-language robot tasks in the simulator, scored by the final world state.")
def robot(
    llm: Optional[str] = typer.Option(None, "--llm", help="local | openai | scripted:PATH"),
    tasks: Optional[str] = typer.Option(None, help="comma-separated task names (default: all)"),
    modes: str = typer.Option("coc-interweave,coc-python,direct", help="comma-separated modes"),
    seeds: int = typer.Option(1, help="pose seeds per task"),
    perception: str = typer.Option("camera", help="camera | ground_truth"),
    config: Optional[str] = typer.Option(None, help="engine YAML"),
    out: Path = typer.Option(Path("runs/bench_robot.json"), help="JSON results (images next to it)"),
) -> None:
    from coc_ros.bench.robot import MODES, run_robot_bench
    from coc_ros.sim.robot_tasks import get_task

    mode_list = [m.strip() for m in modes.split(",")]
    bad = [m for m in mode_list if m not in MODES]
    try:
        task_list = [get_task(t.strip()) for t in tasks.split(",")] if tasks else None
    except KeyError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if bad or seeds < 1:
        Console(stderr=True).print(f"[red]error:[/red] modes must be among {MODES}; --seeds >= 1")
        raise typer.Exit(2)
    run_robot_bench(_llm(llm, config), tasks=task_list, modes=mode_list, seeds=seeds, perception=perception,
                    out=out)


@bench_app.command("sim-speed", help="Real-time factor of the MuJoCo world (simulated s per wall s).")
def sim_speed(seconds: float = typer.Option(5.0, help="simulated seconds per scene")) -> None:
    from coc_ros.bench.sim_speed import measure_rtf
    from coc_ros.sim.scene import available_scenes

    for scene in available_scenes():
        typer.echo(f"{scene}: {measure_rtf(seconds, scene=scene):.1f}x real time")
