"""Solvability check: every task's reference program, with oracle helpers, must succeed in the simulator on every
pose seed with camera perception. A failure here is a bug in the task, the scene or the robot stack, never the LM's.
"""
from __future__ import annotations

import dataclasses
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from coc_ros.bench.robot_tasks import RobotTask, run_reference


@dataclasses.dataclass
class OracleResult:
    task: str
    seed: int
    score: float
    said: list[str]
    world: dict[str, str]
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.score == 1.0 and not self.error


def check_task(task: RobotTask, seed: int, perception: str = "camera") -> OracleResult:
    from coc_ros.sim.backend import SimSkillBackend

    start = time.monotonic()
    with SimSkillBackend(task.scene, seed=task.seed + seed, perception=perception) as backend:
        try:
            score, said = run_reference(task, backend)
            error = ""
        except Exception as exc:
            score, said, error = task.score(backend.world_state(), backend.scene), [], f"{type(exc).__name__}: {exc}"
        world = backend.world_state()
    return OracleResult(task.name, seed, round(score, 3), said, world, round(time.monotonic() - start, 1), error)


def check_tasks(tasks: list[RobotTask], seeds: int = 3, perception: str = "camera",
                console: Console | None = None) -> list[OracleResult]:
    """Run every reference program on seeds 0..seeds-1; print the failures and a one-line total."""
    console = console or Console()
    results = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        bar = progress.add_task("oracle", total=len(tasks) * seeds)
        for task in tasks:
            for seed in range(seeds):
                progress.update(bar, description=f"{task.name[:30]:<30} seed {seed}")
                r = check_task(task, seed, perception)
                results.append(r)
                if not r.ok:
                    console.print(f"[red]FAIL[/red] {r.task} seed {r.seed}: score {r.score} {r.error} "
                                  f"world={r.world} said={r.said}")
                progress.advance(bar)
    n_ok = sum(r.ok for r in results)
    console.print(f"reference programs with oracle helpers: {n_ok}/{len(results)} task x seed runs solved "
                  f"({sum(r.seconds for r in results):.0f} s)")
    return results
