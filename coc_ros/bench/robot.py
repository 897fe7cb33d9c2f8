"""The robot task benchmark: natural-language instructions in the simulated world, scored by the simulator's
final state (where every object ended up, plus the count a counting task must say), never by what the LM claims.

Rows, all with the same model: coc-interweave (program + Python + LMulator), coc-python (program, Python only:
undefined semantic helpers are errors), direct (the LM lists the actions itself, no program), and ablations of
coc-interweave with one technique off ("coc-interweave -calibrate", ...). Every task runs on several pose seeds.
Results are one record per task x row x seed, keyed with a checksum of the model, so a killed run resumes where it
stopped and a different model never mixes with old numbers.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from coc_ros.core.answers import answer_text
from coc_ros.bench.robot_report import print_report
from coc_ros.bench.robot_tasks import SPLITS, OracleDecisions, RobotTask, load_tasks
from coc_ros.core.types import Limits, RunResult
from coc_ros.engine.lmulator import LMulator, parse_literal
from coc_ros.engine.runner import Engine
from coc_ros.engine.techniques import Techniques
from coc_ros.llm.base import ConstrainedDecoder, LLMClient, LLMError, OptionScorer, supports
from coc_ros.llm.caching import CachingLLM
from coc_ros.robot.api import RobotAPI, SafetyConfig
from coc_ros.robot.backend import SkillError

MODES = ["coc-interweave", "coc-python", "direct"]
ABLATIONS = ["calibrate", "gap_threshold", "describe", "both_prompts", "grammar", "repair", "intent_check",
             "kind_shots", "translate"]
OPT_IN = ["rerank", "redraw"]  # techniques off by default, measured by switching them on
ORACLE_DECISIONS = "oracle_decisions"  # diagnostic row: the model writes the program, the scene answers yes/no
DIRECT_SYSTEM = ("You control a robot arm. Given the objects on the table, the places and an instruction, reply "
                 "with ONLY a Python list of (object, target) pairs: the pick_place actions to carry out, in order, "
                 "e.g. [('apple', 'bowl'), ('cup', 'box')]. Reply [] if nothing should move. If the instruction "
                 "asks a question, add ('say', 'your answer') to the list.")


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of the table: a mode, optionally with one technique switched off."""

    mode: str
    ablation: str = ""
    oracle_decisions: bool = False  # diagnostic: yes/no decisions from the scene's attributes (OracleDecisions)
    added: str = ""  # an opt-in technique switched on

    @property
    def name(self) -> str:
        if self.oracle_decisions:
            return f"{self.mode} +{ORACLE_DECISIONS}"
        if self.added:
            return f"{self.mode} +{self.added}"
        return f"{self.mode} -{self.ablation}" if self.ablation else self.mode

    @property
    def techniques(self) -> Techniques:
        if self.added:
            return dataclasses.replace(Techniques(), **{self.added: True})
        return Techniques().without(self.ablation) if self.ablation else Techniques()

    @classmethod
    def parse(cls, name: str) -> Row:
        if name == f"coc-interweave +{ORACLE_DECISIONS}":
            return cls("coc-interweave", oracle_decisions=True)
        if name in [f"coc-interweave +{t}" for t in OPT_IN]:
            return cls("coc-interweave", added=name.partition(" +")[2])
        mode, _, ablation = name.partition(" -")
        if mode not in MODES or (ablation and (ablation not in ABLATIONS or mode != "coc-interweave")):
            raise ValueError(f"unknown row {name!r}: a mode among {MODES}, 'coc-interweave -X' with X among "
                             f"{ABLATIONS}, 'coc-interweave +X' with X among {OPT_IN}, or "
                             f"'coc-interweave +{ORACLE_DECISIONS}'")
        return cls(mode, ablation)


@dataclasses.dataclass
class RobotResult:
    task: str
    split: str
    scene: str
    mode: str  # the row name: "coc-interweave", "direct", "coc-interweave -calibrate", ...
    seed: int
    success: bool
    score: float
    answer: str  # what the robot said, then the program's `answer` (a counting task is scored on it)
    lm_calls: int
    cached_lm_calls: int  # of lm_calls, replies served from the benchmark's cache (identical prompt seen before)
    motions: int
    seconds: float
    world: dict[str, str]
    error: str
    image: str
    model: str
    decisions: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # LMulator calls, for the report
    program: str = ""  # the program that ran last (after any repair), so a failure can be read without a rerun
    code: str = ""  # which code ran it (code_version); "" in records written before the field existed
    # The rounds that gave the goal another program, in order: 'repair', 'intent', 'count', 'redraw' ([] in records
    # written before the field existed). A run with 'redraw' shows, on the same record, how the goal would have
    # ended without the redraw: everything before it is the same, and without it the goal ends in the intent error.
    rounds: list[str] = dataclasses.field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.task, self.mode, self.seed, self.model)


def code_version() -> str:
    """Which code produced a record: the checkout's commit ('-dirty' when tracked files differ from it, e.g. a
    prompt being tried; tags are ignored, so it is always a commit), else the installed package version. The
    benchmark resumes from the records already in its file, so one file can hold runs of several commits; each
    record says which."""
    root = Path(__file__).resolve().parents[2]
    if (root / "package.xml").is_file():
        try:
            described = subprocess.run(
                ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=7", "--exclude=*"],
                capture_output=True, text=True, timeout=10)
            if described.returncode == 0 and described.stdout.strip():
                return described.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"coc_ros {version('coc_ros')}"
    except PackageNotFoundError:
        return "unknown"


def model_checksum(llm: Any) -> str:
    """Which model produced a record: file name, size and a hash of its first and last 16 MiB (a full hash of a
    1 GB file costs seconds of a scarce CPU), else the backend's name."""
    path = getattr(getattr(llm, "inner", llm), "model_path", None)
    if path is None or not Path(path).is_file():
        return str(getattr(llm, "name", type(llm).__name__))
    p, chunk = Path(path), 1 << 24
    h, size = hashlib.sha256(), p.stat().st_size
    with p.open("rb") as f:
        h.update(f.read(chunk))
        f.seek(max(0, size - chunk))
        h.update(f.read(chunk))
    return f"{p.name}:{size}:{h.hexdigest()[:16]}"


def run_direct(llm: LLMClient, robot: RobotAPI, instruction: str) -> tuple[int, str]:
    """The no-code baseline: one LM call lists the actions; each is executed through the same checked API."""
    objects = robot.call("detect_objects", [], {})
    messages = [{"role": "system", "content": DIRECT_SYSTEM},
                {"role": "user",
                 "content": f"Objects: {objects}\nPlaces: {robot.places()}\nInstruction: {instruction}"}]
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
            if action[0] == "say":
                robot.call("say", [str(action[1])], {})
            else:
                robot.call("pick_place", [str(action[0]), str(action[1])], {})
        except SkillError as exc:
            errors.append(str(exc))
    return 1, "; ".join(errors)


def decisions(run: RunResult) -> list[dict[str, Any]]:
    """The LMulator calls of a run's trace, with helper name and arguments (parsed from the expression when the
    engine did not record them), for the per-decision accuracy report."""
    keep = ("helper", "args", "value", "logodds", "raw_logodds", "decision", "calibrated", "raw_choice", "memo",
            "fact", "oracle")
    out = []
    for event in run.trace:
        for call in (event.detail or {}).get("lm_calls", []):
            item = {k: call[k] for k in keep if k in call}
            if "helper" not in item:
                item.update(_helper_call(str(call.get("expression", ""))))
            if item.get("helper"):
                out.append(item)
    return out


def _helper_call(expression: str) -> dict[str, Any]:
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return {}
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return {}
    args = []
    for a in node.args:
        try:
            args.append(ast.literal_eval(a))
        except ValueError:
            args.append(ast.unparse(a))
    return {"helper": node.func.id, "args": args}


def _engine(llm: LLMClient, robot: RobotAPI, row: Row, scene: Any = None) -> Engine:
    kwargs: dict[str, Any] = {"robot": robot, "limits": Limits(timeout_s=600)}
    if "techniques" in inspect.signature(Engine).parameters:
        kwargs["techniques"] = row.techniques
    if row.oracle_decisions:
        kwargs["simulator"] = OracleDecisions(LMulator(llm), scene)
    return Engine(llm, **kwargs)


def check_rows(rows: list[Row]) -> None:
    """Ablation rows need an Engine that takes `techniques`; without it they would silently measure the full
    engine, so refuse before anything runs."""
    if any(r.ablation for r in rows) and "techniques" not in inspect.signature(Engine).parameters:
        raise ValueError("ablation rows need Engine(..., techniques=Techniques(...)), which this engine lacks")


def load_results(out: Path) -> list[RobotResult]:
    if not out.is_file():
        return []
    fields = {f.name for f in dataclasses.fields(RobotResult)}
    return [RobotResult(**{k: v for k, v in r.items() if k in fields}) for r in json.loads(out.read_text())["results"]]


def run_robot_bench(llm: LLMClient, *, tasks: list[RobotTask] | None = None, rows: list[Row] | None = None,
                    seeds: int = 3, perception: str = "camera", out: Path = Path("runs/bench_robot.json"),
                    images: Path | None = None, resume: bool = True,
                    console: Console | None = None) -> dict[str, dict[str, Any]]:
    """Run tasks x rows x seeds (skipping records already in `out` for this model), write `out` after every run,
    then print the tables and write the contact sheets. Returns the summary {split: {row: numbers}}."""
    from coc_ros.sim.backend import SimSkillBackend

    console = console or Console()
    tasks = tasks or load_tasks("all")
    rows = rows or [Row(m) for m in MODES]
    check_rows(rows)
    model, code = model_checksum(llm), code_version()
    cached = CachingLLM(llm)  # greedy decoding: an identical prompt gives an identical reply, so replay it
    keeps_capabilities = all(supports(cached, c) or not supports(llm, c) for c in (OptionScorer, ConstrainedDecoder))
    shared: Any = cached if keeps_capabilities else llm
    image_dir = images or out.with_suffix("")
    image_dir.mkdir(parents=True, exist_ok=True)
    results = load_results(out) if resume else []
    done = {r.key for r in results}
    todo = [(t, s, row) for t in tasks for s in range(seeds) for row in rows
            if (t.name, row.name, s, model) not in done]
    console.print(f"robot bench: {len(tasks)} tasks x {len(rows)} rows x {seeds} seeds; model {model}; "
                  f"{len(todo)} runs to do ({len(tasks) * len(rows) * seeds - len(todo)} already in {out})")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        bar = progress.add_task("robot", total=len(todo))
        for i, (task, seed, row) in enumerate(todo, 1):
            progress.update(bar, description=f"{task.name[:28]:<28} s{seed} {row.name:<26}")
            results = [r for r in results if r.key != (task.name, row.name, seed, model)]
            record = _run_one(shared, task, seed, row, perception, image_dir, model, code, SimSkillBackend)
            results.append(record)
            _write(out, results)
            progress.advance(bar)
            if not console.is_terminal:  # a log file gets one line per run instead of a progress bar
                console.print(f"[{i}/{len(todo)}] {task.name} seed {seed} {row.name}: "
                              f"{'OK' if record.success else 'FAIL'} score {record.score} {record.seconds:.0f}s "
                              f"{record.error[:80]}")
    current = [r for r in results if r.model == model]
    summary = print_report(current, console=console)
    _write(out, results, summary)
    for split in SPLITS:
        rows_of_split = [r for r in current if r.split == split]
        if rows_of_split:
            suffix = "" if split == "dev" else f"_{split}"
            sheet = contact_sheet(rows_of_split, out.with_name(f"{out.stem}_contact_sheet{suffix}.png"))
            console.print(f"contact sheet ({split}): {sheet}")
    console.print(f"results: {out}")
    return summary


def _run_one(llm: Any, task: RobotTask, seed: int, row: Row, perception: str, image_dir: Path, model: str,
             code: str, backend_cls: Any) -> RobotResult:
    backend = backend_cls(task.scene, seed=task.seed + seed, perception=perception)
    robot = RobotAPI(backend, SafetyConfig(velocity_scaling=1.0))
    hits_before = getattr(llm, "hits", 0)
    start = time.monotonic()
    run: RunResult | None = None
    if row.mode == "direct":
        lm_calls, error = run_direct(llm, robot, task.instruction)
    else:
        run = _engine(llm, robot, row, backend.scene).run(task.instruction, row.mode)
        lm_calls, error = run.lm_calls, run.error
    seconds = time.monotonic() - start
    world = backend.world_state()
    said = list(robot.said) + ([answer_text(run.answer)] if run is not None and run.answer is not None else [])
    score = task.score(world, backend.scene, said)
    image = image_dir / f"{task.name}_{row.name.replace(' ', '_')}_{seed}.png"
    backend.render(image)
    backend.close()
    return RobotResult(task=task.name, split=task.split, scene=task.scene, mode=row.name, seed=seed,
                       success=score == 1.0, score=round(score, 3), answer=" | ".join(said)[:300], lm_calls=lm_calls,
                       cached_lm_calls=getattr(llm, "hits", 0) - hits_before, motions=robot.motions,
                       seconds=round(seconds, 2), world=world, error=error[:300], image=str(image), model=model,
                       code=code, decisions=decisions(run) if run is not None else [],
                       program=(run.program or "")[:4000] if run is not None else "",
                       rounds=rounds(run) if run is not None else [])


def rounds(run: Any) -> list[str]:
    """The trace's rounds that gave the goal another program (see RobotResult.rounds); a redraw counts once, when
    its drawn program was used."""
    out = []
    for e in run.trace:
        if e.kind == "repair":
            out.append("repair")
        elif e.kind == "intent" and e.executor == "system" and "message" in e.detail:  # a re-prompt, not a note
            out.append("count" if e.detail.get("check") == "count" else "intent")
        elif e.kind == "intent" and e.detail.get("check") == "redraw" and e.detail.get("used"):
            out.append("redraw")
    return out


def _write(out: Path, results: list[RobotResult], summary: dict[str, Any] | None = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"summary": summary, "results": [dataclasses.asdict(r) for r in results]}, indent=1,
                              ensure_ascii=False))
    tmp.replace(out)


def contact_sheet(results: list[RobotResult], path: Path, thumb: tuple[int, int] = (240, 180)) -> Path:
    """One labelled thumbnail of each run's final frame (seed 0), a row per task, a column per table row."""
    from PIL import Image, ImageDraw

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
