"""The robot task benchmark: natural-language instructions in the simulated world, scored by the simulator's
final state (where every object ended up), never by what the LM says.

Modes, all with the same model: coc-interweave (program + Python + LMulator), coc-python (program, Python only:
undefined semantic helpers are errors), and direct (the LM lists the pick_place actions itself, no program).
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

from coc_ros.engine.lmulator import parse_literal
from coc_ros.engine.runner import Engine
from coc_ros.core.types import Limits
from coc_ros.llm.base import LLMClient, LLMError
from coc_ros.llm.caching import CachingLLM
from coc_ros.robot.api import RobotAPI, SafetyConfig
from coc_ros.robot.backend import SkillError
from coc_ros.sim.robot_tasks import TASKS, RobotTask

MODES = ["coc-interweave", "coc-python", "direct"]
DIRECT_SYSTEM = ("You control a robot arm. Given the objects on the table, the places and an instruction, reply "
                 "with ONLY a Python list of (object, target) pairs: the pick_place actions to carry out, in order, "
                 "e.g. [('apple', 'bowl'), ('cup', 'box')]. Reply [] if nothing should move.")


@dataclasses.dataclass
class RobotResult:
    task: str
    mode: str
    seed: int
    success: bool
    score: float
    lm_calls: int
    motions: int
    seconds: float
    world: dict[str, str]
    error: str
    image: str


def run_direct(llm: LLMClient, robot: RobotAPI, instruction: str) -> tuple[int, str]:
    """The no-code baseline: one LM call lists the actions; each is executed through the same checked API."""
    objects = robot.call("detect_objects", [], {})
    messages = [{"role": "system", "content": DIRECT_SYSTEM},
                {"role": "user", "content": f"Objects: {objects}\nPlaces: {robot.places()}\nInstruction: {instruction}"}]
    try:
        text = llm.complete(messages, max_tokens=256).text
        actions = parse_literal(text, "call")
    except (ValueError, LLMError) as exc:
        return 1, f"direct: no usable action list ({exc})"
    if not isinstance(actions, (list, tuple)):
        return 1, f"direct: expected a list of pairs, got {type(actions).__name__}"
    errors = []
    for action in actions:
        if not (isinstance(action, (list, tuple)) and len(action) == 2):
            errors.append(f"bad action {action!r}")
            continue
        try:
            robot.call("pick_place", [str(action[0]), str(action[1])], {})
        except SkillError as exc:
            errors.append(str(exc))
    return 1, "; ".join(errors)


def run_robot_bench(llm: LLMClient, *, tasks: list[RobotTask] | None = None, modes: list[str] | None = None,
                    seeds: int = 1, perception: str = "camera", out: Path = Path("runs/bench_robot.json"),
                    console: Console | None = None) -> dict[str, Any]:
    from coc_ros.sim.backend import SimSkillBackend  # noqa: PLC0415 - MuJoCo only when the benchmark runs

    console = console or Console()
    tasks = tasks or TASKS
    modes = modes or MODES
    shared = CachingLLM(llm)
    image_dir = out.with_suffix("")
    image_dir.mkdir(parents=True, exist_ok=True)
    results: list[RobotResult] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        bar = progress.add_task("robot", total=len(tasks) * len(modes) * seeds)
        for task in tasks:
            for seed in range(seeds):
                for mode in modes:
                    progress.update(bar, description=f"{task.name[:26]:<26} {mode:<15}")
                    backend = SimSkillBackend(task.scene, seed=task.seed + seed, perception=perception)
                    robot = RobotAPI(backend, SafetyConfig(velocity_scaling=1.0))
                    start = time.monotonic()
                    if mode == "direct":
                        lm_calls, error = run_direct(shared, robot, task.instruction)
                    else:
                        run = Engine(shared, robot=robot, limits=Limits(timeout_s=600)).run(task.instruction, mode)
                        lm_calls, error = run.lm_calls, run.error
                    seconds = time.monotonic() - start
                    world = backend.world_state()
                    score = task.score(world, backend.scene)
                    image = image_dir / f"{task.name}_{mode}_{seed}.png"
                    backend.render(image)
                    backend.close()
                    results.append(RobotResult(task=task.name, mode=mode, seed=seed, success=score == 1.0,
                                               score=round(score, 3), lm_calls=lm_calls, motions=robot.motions,
                                               seconds=round(seconds, 2), world=world, error=error[:300],
                                               image=str(image)))
                    _write(out, results)
                    progress.advance(bar)
    summary = {m: _summary([r for r in results if r.mode == m]) for m in modes}
    _write(out, results, summary)
    sheet = contact_sheet(results, out.with_name(out.stem + "_contact_sheet.png"))
    _print(results, summary, tasks, modes, console)
    console.print(f"results: {out}\ncontact sheet: {sheet}")
    return summary


def _summary(rows: list[RobotResult]) -> dict[str, Any]:
    n = len(rows) or 1
    return {"success_rate": round(100 * sum(r.success for r in rows) / n, 1),
            "mean_score": round(100 * sum(r.score for r in rows) / n, 1),
            "lm_calls": round(sum(r.lm_calls for r in rows) / n, 2),
            "seconds": round(sum(r.seconds for r in rows) / n, 2), "n": len(rows)}


def _write(out: Path, results: list[RobotResult], summary: dict[str, Any] | None = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"summary": summary, "results": [dataclasses.asdict(r) for r in results]}, indent=1))
    tmp.replace(out)


def _print(results: list[RobotResult], summary: dict[str, Any], tasks: list[RobotTask], modes: list[str],
           console: Console) -> None:
    table = Table(title="Robot tasks in the simulator (success = every object where it belongs)")
    table.add_column("task")
    for m in modes:
        table.add_column(m, justify="right")
    for task in tasks:
        cells = []
        for m in modes:
            rows = [r for r in results if r.task == task.name and r.mode == m]
            ok = sum(r.success for r in rows)
            secs = sum(r.seconds for r in rows) / (len(rows) or 1)
            cells.append(f"{ok}/{len(rows)} ({secs:.0f}s)")
        table.add_row(task.name, *cells)
    table.add_row("[bold]success rate %[/bold]", *[f"[bold]{summary[m]['success_rate']:.0f}[/bold]" for m in modes])
    table.add_row("mean score %", *[f"{summary[m]['mean_score']:.0f}" for m in modes])
    table.add_row("LM calls / task", *[f"{summary[m]['lm_calls']:.1f}" for m in modes])
    table.add_row("seconds / task", *[f"{summary[m]['seconds']:.1f}" for m in modes])
    console.print(table)


def contact_sheet(results: list[RobotResult], path: Path, thumb: tuple[int, int] = (320, 240)) -> Path:
    """One labelled thumbnail of each run's final frame, a row per task, a column per mode."""
    from PIL import Image, ImageDraw  # noqa: PLC0415

    tasks = list(dict.fromkeys(r.task for r in results))
    modes = list(dict.fromkeys(r.mode for r in results))
    w, h = thumb
    sheet = Image.new("RGB", (w * len(modes), (h + 18) * len(tasks)), "white")
    draw = ImageDraw.Draw(sheet)
    for r in results:
        if r.seed != 0:
            continue
        x, y = modes.index(r.mode) * w, tasks.index(r.task) * (h + 18)
        try:
            sheet.paste(Image.open(r.image).convert("RGB").resize(thumb), (x, y + 18))
        except OSError:
            pass
        draw.text((x + 4, y + 3), f"{r.task} / {r.mode}: {'OK' if r.success else 'FAIL'} ({r.score:.2f})",
                  fill="green" if r.success else "red")
    sheet.save(path)
    return path
