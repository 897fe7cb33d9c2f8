"""`coc-ros bench reasoning|robot|lmulator-cache`: benchmarks that print tables and write JSON."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

bench_app = typer.Typer(help="Benchmarks (accuracy, cost, speed); each prints a table and writes JSON.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    from coc_ros.commands.bench_extra import register_bench

    register_bench(bench_app)
    app.add_typer(bench_app, name="bench")


def _llm(spec: str | None, config: str | None):
    from coc_ros.engine.settings import llm_from_config, load_engine_config

    return llm_from_config(load_engine_config(config), spec)


@bench_app.command("reasoning", help="BIG-Bench Hard questions through each mode with the same model. Resumable: "
                   "finished runs are journaled under --runs-dir and a rerun of the same command continues where a "
                   "killed one stopped (run it in the background with nohup; without a terminal it logs one line "
                   "per question).")
def reasoning(
    modes: str = typer.Option("direct,cot,coc-interweave", help="comma-separated modes"),
    tasks: str | None = typer.Option(None, help="comma-separated BBH tasks, 'quick' for 10 of them or 'all' "
                                                   "(default: all 27 subtasks of BBH's 23 tasks)"),
    limit: int = typer.Option(8, help="questions per task"),
    seed: int = typer.Option(0, help="sampling seed"),
    llm: str | None = typer.Option(None, "--llm", help="local | openai | scripted:PATH"),
    config: str | None = typer.Option(None, help="engine YAML"),
    out: Path = typer.Option(Path("runs/bench_reasoning.json"), help="JSON results file (written at the end)"),
    runs_dir: Path = typer.Option(Path("runs/bench_reasoning"), help="journal folder (one JSONL per model)"),
    rescore: Path | None = typer.Option(None, help="re-score this results JSON and print its tables (README "
                                                      "markdown included); runs no model"),
    timeout_s: float = typer.Option(300.0, help="wall-clock limit per question and mode, in seconds (timed-out "
                                                "runs are retried by the next run of the same command)"),
) -> None:
    from coc_ros.bench import bbh
    from coc_ros.bench.reasoning import rescore as rescore_file
    from coc_ros.core.types import Limits
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
                        limit=limit, seed=seed, out=out, runs_dir=runs_dir, limits=Limits(timeout_s=timeout_s))


@bench_app.command("lmulator-cache", help="LMulator latency with and without KV-cache reuse of the prompt prefix.")
def lmulator_cache(rounds: int = typer.Option(1, help="passes over the 8 calls")) -> None:
    from coc_ros.bench.lmulator_cache import run_cache_bench

    run_cache_bench(rounds)


@bench_app.command("robot", help="Natural-language robot tasks in the simulator, scored by the final world state. "
                   "Resumable: runs already in --out for this model are kept.")
def robot(
    llm: str | None = typer.Option(None, "--llm", help="local | openai | scripted:PATH"),
    split: str = typer.Option("all", help="dev | heldout | fresh | blind | sealed | vault | reserve | cellar | annex "
                                           "| loft | attic | porch | shed | barn | yard | dock | quay | pier | wharf "
                                           "| all"),
    tasks: str | None = typer.Option(None, help="comma-separated task names (default: every task of --split)"),
    modes: str = typer.Option("coc-interweave,coc-python,direct",
                              help="comma-separated modes; 'coc-interweave +oracle_decisions' is a diagnostic row "
                                   "(yes/no decisions from the scene's attributes, the program from the model); "
                                   "'coc-interweave +rerank' / '+redraw' switch on the opt-in program reranking / "
                                   "redraw"),
    ablations: str = typer.Option("", help="comma-separated techniques to switch off one at a time in "
                                           "coc-interweave: calibrate,gap_threshold,describe,both_prompts,grammar,"
                                           "repair,intent_check,kind_shots,translate (or 'all')"),
    seeds: int = typer.Option(3, help="pose seeds per task"),
    perception: str = typer.Option("camera", help="camera | ground_truth"),
    config: str | None = typer.Option(None, help="engine YAML"),
    out: Path = typer.Option(Path("runs/bench_robot.json"), help="JSON results (contact sheets next to it)"),
    images: Path | None = typer.Option(None, help="folder for the final frames (default: next to --out)"),
    fresh: bool = typer.Option(False, "--fresh", help="ignore records already in --out"),
) -> None:
    from coc_ros.bench.robot import ABLATIONS, Row, check_rows, run_robot_bench
    from coc_ros.bench.robot_tasks import get_task, load_tasks

    try:
        names = ablations.split(",") if ablations != "all" else ABLATIONS
        rows = [Row.parse(m.strip()) for m in modes.split(",")] + \
               [Row.parse(f"coc-interweave -{a.strip()}") for a in names if a.strip()]
        check_rows(rows)
        task_list = [get_task(t.strip()) for t in tasks.split(",")] if tasks else load_tasks(split)
        if seeds < 1:
            raise ValueError("--seeds must be >= 1")
    except (KeyError, ValueError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    run_robot_bench(_llm(llm, config), tasks=task_list, rows=rows, seeds=seeds, perception=perception, out=out,
                    images=images, resume=not fresh)


@bench_app.command("robot-report", help="Re-print the robot benchmark's tables (and LMulator decision accuracy) "
                   "from its JSON, e.g. the committed docs/results/bench_robot.json.")
def robot_report(
    results: Path = typer.Argument(Path("docs/results/bench_robot.json"), help="JSON written by bench robot"),
    model: str | None = typer.Option(None, help="model checksum to report (default: the latest in the file)"),
) -> None:
    import json

    from coc_ros.bench.robot_report import print_report, records_of

    print_report(records_of(json.loads(results.read_text())["results"], model))


@bench_app.command("robot-oracle", help="Prove every robot task solvable: its reference program with oracle "
                   "helpers on every pose seed, camera perception. No LM.")
def robot_oracle(
    split: str = typer.Option("all", help="dev | heldout | fresh | blind | sealed | vault | reserve | cellar | annex "
                                           "| loft | attic | porch | shed | barn | yard | dock | quay | pier | wharf "
                                           "| all"),
    tasks: str | None = typer.Option(None, help="comma-separated task names"),
    seeds: int = typer.Option(3, help="pose seeds per task"),
) -> None:
    from coc_ros.bench.robot_oracle import check_tasks
    from coc_ros.bench.robot_tasks import get_task, load_tasks

    task_list = [get_task(t.strip()) for t in tasks.split(",")] if tasks else load_tasks(split)
    if not all(r.ok for r in check_tasks(task_list, seeds)):
        raise typer.Exit(1)


@bench_app.command("decisions", help="LMulator yes/no decisions on a tuning set of everyday objects that are in "
                   "no benchmark scene (48 objects, 296 questions), per configuration: right / answered.")
def decisions(
    configs: str = typer.Option("calibrated+described,calibrated",
                                help="comma-separated: calibrated+described, calibrated, raw+described, raw"),
    llm: str | None = typer.Option(None, "--llm", help="local | openai | scripted:PATH"),
    config: str | None = typer.Option(None, help="engine YAML"),
    out: Path = typer.Option(Path("runs/bench_decisions.json"), help="JSON results"),
) -> None:
    from rich.table import Table

    from coc_ros.bench.decisions import CONFIGS, run_decisions_bench

    names = [c.strip() for c in configs.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONFIGS]
    if unknown or not names:
        Console(stderr=True).print(f"[red]error:[/red] unknown configuration(s) {unknown}; known: {', '.join(CONFIGS)}")
        raise typer.Exit(2)
    rows = run_decisions_bench(_llm(llm, config), names, out)
    table = Table(title="LMulator yes/no decisions, tuning set (objects in no benchmark scene)")
    for column in ("configuration", "right", "%", "s / decision", "per helper"):
        table.add_column(column)
    for r in rows:
        per = ", ".join(f"{h} {a}/{b}" for h, (a, b) in r.per_helper.items())
        table.add_row(r.name, f"{r.right}/{r.answered}", f"{100 * r.right / max(1, r.answered):.1f}",
                      f"{r.seconds / max(1, r.answered):.2f}", per)
    Console().print(table)
    Console().print(f"results: {out}")


@bench_app.command("sim-speed", help="Real-time factor of the MuJoCo world (simulated s per wall s).")
def sim_speed(seconds: float = typer.Option(5.0, help="simulated seconds per scene")) -> None:
    from coc_ros.bench.sim_speed import measure_rtf
    from coc_ros.sim.scene import available_scenes

    for scene in available_scenes():
        typer.echo(f"{scene}: {measure_rtf(seconds, scene=scene):.1f}x real time")
