"""The reasoning benchmark: BIG-Bench Hard questions through every mode with the same model, resumable.

Modes run over identical items. Greedy decoding makes program generation identical across the three CoC modes,
so generation is computed once and shared (CachingLLM); LM calls and tokens are still counted per mode as if
each mode had made them, so the reported costs are what a single-mode user would pay.

A full run takes hours on a CPU, so every finished (task, question, mode) is appended at once to a journal,
``<runs_dir>/<backend>-<model fingerprint>.jsonl``. A later run with the same model reuses a journal row only
if the task's prompt version (a hash of its few-shot texts, its Chain of Code programs and the engine's prompt
source) and the question and target are unchanged, so a killed run continues where it stopped and stale results
are never merged. At the end the selected rows go to one JSON file (``--out``) with a summary; :func:`rescore`
recomputes the table from such a file without a model.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from coc_ros import config
from coc_ros.bench import bbh
from coc_ros.bench.bbh import paper
from coc_ros.core.types import Limits, Mode
from coc_ros.engine.runner import Engine
from coc_ros.llm.base import LLMClient
from coc_ros.llm.caching import CachingLLM

# Order matters only for speed: coc-interweave generates the programs the other CoC modes reuse.
MODE_ORDER = ["coc-interweave", "coc-python", "coc-lm", "direct", "cot"]
_PREDICTION_CHARS = 4000
_TIMEOUT = "timeout:"  # how the engine's wall-clock LimitExceeded message starts


@dataclasses.dataclass
class ItemResult:
    """One (question, mode) outcome, with what is needed to re-score it without the data or the model."""

    task: str
    item_id: str
    mode: str
    correct: bool
    prediction: Any  # what was scored: the reply text (direct/CoT) or the program's `answer` (JSON value)
    target: str
    choices: list[str] | None
    success: bool  # the run finished without error (a failed run scores wrong whatever it predicted)
    lm_calls: int
    tokens: int
    seconds: float
    error: str
    prompt_version: str
    question_sha: str
    program: str = ""  # the program a CoC mode ran (for the per-task analysis of where and why it failed)


# --------------------------------------------------------------------------------------------- identity


def model_fingerprint(llm: LLMClient) -> str:
    """sha256 of the local model file (cached by path, size and mtime), else the backend's model name; a backend
    that names no model (e.g. scripted replies) gets a fresh id, so its results are never resumed."""
    path = getattr(llm, "model_path", None)
    if path is None or not Path(path).is_file():
        model = getattr(llm, "model", None)
        return f"{llm.name}:{model}" if model else f"{llm.name}:unidentified-{uuid.uuid4().hex}"
    stat = Path(path).stat()
    key = f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    memo = config.cache_dir() / "bench" / "model_sha256.json"
    known = json.loads(memo.read_text()) if memo.is_file() else {}
    if key not in known:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        known[key] = h.hexdigest()
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps(known, indent=1))
    return "sha256:" + known[key]


def _question_sha(item: bbh.Item) -> str:
    return hashlib.sha256(f"{item.question}\0{item.target}".encode()).hexdigest()[:16]


def _journal_path(runs_dir: Path, llm: LLMClient, fingerprint: str) -> Path:
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    return runs_dir / f"{llm.name}-{digest}.jsonl"


def _read_journal(path: Path) -> list[ItemResult]:
    """Every complete row of a journal (a line cut short by a kill is skipped)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(ItemResult(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return rows


def _append(path: Path, result: ItemResult) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(dataclasses.asdict(result)) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _as_json_value(value: Any) -> Any:
    """The answer as it will be stored, so re-scoring the JSON sees exactly what was scored."""
    if isinstance(value, str):
        return value[:_PREDICTION_CHARS]
    return json.loads(json.dumps(value, default=repr))


# --------------------------------------------------------------------------------------------- progress


class _Status:
    """Task, question, mode, running accuracy per mode and ETA: a live bar on a terminal, one line per finished
    run otherwise (a background run's log)."""

    def __init__(self, console: Console, total: int, done: int, modes: list[str]):
        self.console, self.total, self.done, self.modes = console, total, done, modes
        self.right = {m: 0 for m in modes}
        self.count = {m: 0 for m in modes}
        self.session_seconds: list[float] = []
        self.progress: Progress | None = None
        if console.is_terminal:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=console)
            self.bar = self.progress.add_task("reasoning", total=total, completed=done, info="")

    def __enter__(self) -> _Status:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def count_result(self, r: ItemResult) -> None:
        self.right[r.mode] += r.correct
        self.count[r.mode] += 1

    def _accuracy(self) -> str:
        return " ".join(f"{m} {100 * self.right[m] / self.count[m]:.0f}%" for m in self.modes if self.count[m])

    def _eta(self) -> str:
        if not self.session_seconds:
            return "ETA ?"
        left = statistics.mean(self.session_seconds) * (self.total - self.done)
        return f"ETA {int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}"

    def start(self, task: str, index: int, of: int, mode: str) -> None:
        if self.progress is not None:
            self.progress.update(self.bar, description=f"{task[:30]:<30} q{index}/{of} {mode:<14}",
                                 info=f"{self._accuracy()}  {self._eta()}")

    def finish(self, r: ItemResult, wall: float, index: int, of: int) -> None:
        self.done += 1
        self.session_seconds.append(wall)
        self.count_result(r)
        if self.progress is not None:
            self.progress.advance(self.bar)
        else:
            mark = "right" if r.correct else "wrong"
            self.console.print(escape(f"[{self.done}/{self.total}] {r.task} q{index}/{of} {r.mode}: {mark} "
                                      f"({wall:.1f} s) | {self._accuracy()} | {self._eta()}"), highlight=False,
                               soft_wrap=True)


# --------------------------------------------------------------------------------------------- running


def run_reasoning_bench(llm: LLMClient, *, modes: list[str], tasks: list[str], limit: int, seed: int, out: Path,
                        runs_dir: Path = Path("runs/bench_reasoning"), limits: Limits | None = None,
                        console: Console | None = None) -> dict[str, Any]:
    """Run (or continue) the benchmark; return the summary and write ``out`` (JSON) at the end."""
    console = console or Console()
    bbh.fetch_sources()
    modes = [m for m in MODE_ORDER if m in modes] + [m for m in modes if m not in MODE_ORDER]
    for m in modes:
        Mode.parse(m)
    items = {t: bbh.load_task(t, limit, seed) for t in tasks}
    versions = {t: bbh.prompt_version(t) for t in tasks}
    fingerprint = model_fingerprint(llm)
    runs_dir.mkdir(parents=True, exist_ok=True)
    journal = _journal_path(runs_dir, llm, fingerprint)
    with _exclusive(journal):
        return _run_with_journal(llm, journal, fingerprint, modes=modes, tasks=tasks, items=items,
                                 versions=versions, limit=limit, seed=seed, out=out, limits=limits, console=console)


@contextlib.contextmanager
def _exclusive(journal: Path) -> Iterator[None]:
    """One writer per journal: a second run of the same model fails at once instead of duplicating work."""
    with open(journal.with_suffix(".lock"), "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another benchmark run is writing {journal}; wait for it or stop it") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run_with_journal(llm: LLMClient, journal: Path, fingerprint: str, *, modes: list[str], tasks: list[str],
                      items: dict[str, list[bbh.Item]], versions: dict[str, str], limit: int, seed: int, out: Path,
                      limits: Limits | None, console: Console) -> dict[str, Any]:
    """The run proper, holding the journal's lock: reuse valid rows, run the rest, write ``out``."""
    wanted = {(t, it.id, m): (versions[t], _question_sha(it)) for t in tasks for it in items[t] for m in modes}
    done: dict[tuple[str, str, str], ItemResult] = {}
    for r in _read_journal(journal):
        key = (r.task, r.item_id, r.mode)
        if wanted.get(key) == (r.prompt_version, r.question_sha) and not r.error.startswith(_TIMEOUT):
            done[key] = r  # a wall-clock timeout says more about a busy machine than the model: rerun it
    meta = {"llm": llm.name, "model": str(getattr(llm, "model_path", getattr(llm, "model", ""))),
            "model_fingerprint": fingerprint, "prompt_versions": versions, "limit": limit, "seed": seed,
            "tasks": tasks, "modes": modes, "journal": str(journal), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "differences_from_bbh": bbh.DIFFERENCES}
    if done:
        console.print(f"resuming: {len(done)} of {len(wanted)} runs already in {journal}", soft_wrap=True)
    shared = CachingLLM(llm)
    engine = Engine(shared, limits=limits or Limits(timeout_s=300))
    with _Status(console, len(wanted), len(done), modes) as status:
        for r in done.values():
            status.count_result(r)
        # Item-major order: an interrupted run still has every mode on the same items. The local backend's
        # RAM cache of KV states keeps each mode's few-shot prefix warm across the alternation.
        for task, task_items in items.items():
            fewshot = bbh.fewshot(task)
            for index, item in enumerate(task_items, 1):
                for mode in modes:
                    if (task, item.id, mode) in done:
                        continue
                    status.start(task, index, len(task_items), mode)
                    started = time.monotonic()
                    run = engine.run(item.question, mode, fewshot=fewshot)
                    prediction = _as_json_value(run.completion if mode in ("direct", "cot") else run.answer)
                    result = ItemResult(
                        task=task, item_id=item.id, mode=mode,
                        correct=bool(run.success and bbh.score(task, prediction, item)), prediction=prediction,
                        target=item.target, choices=list(item.choices) if item.choices else None,
                        success=run.success, lm_calls=run.lm_calls,
                        tokens=run.prompt_tokens + run.completion_tokens, seconds=round(run.seconds, 2),
                        error=run.error[:300], prompt_version=versions[task], question_sha=_question_sha(item),
                        program=(run.program or "")[:_PREDICTION_CHARS])
                    _append(journal, result)
                    done[(task, item.id, mode)] = result
                    status.finish(result, time.monotonic() - started, index, len(task_items))
    results = [done[k] for k in wanted]
    summary = summarize(results, modes, tasks)
    _write(out, meta, results, summary)
    print_table(summary, modes, tasks, console)
    console.print(f"results: {out}  (journal: {journal})", soft_wrap=True)
    return summary


def _write(out: Path, meta: dict[str, Any], results: list[ItemResult], summary: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "summary": summary,
                               "results": [dataclasses.asdict(r) for r in results]}, indent=1))
    tmp.replace(out)


# --------------------------------------------------------------------------------------------- summaries


def _mean(values: list[float]) -> float | None:
    return round(statistics.mean(values), 1) if values else None


def summarize(results: list[ItemResult], modes: list[str], tasks: list[str]) -> dict[str, Any]:
    """Per mode: accuracy per task, per BBH family (mean of its 3/5/7-object variants), and the means over
    families overall and over BBH's algorithmic and NLP tasks (the paper's averages), plus per-question costs."""
    summary: dict[str, Any] = {}
    for mode in modes:
        rows = [r for r in results if r.mode == mode]
        per_task: dict[str, float | None] = {}
        for task in tasks:
            tr = [r for r in rows if r.task == task]
            per_task[task] = round(100 * sum(r.correct for r in tr) / len(tr), 1) if tr else None
        per_family: dict[str, float | None] = {}
        for fam in dict.fromkeys(bbh.family(t) for t in tasks):
            per_family[fam] = _mean([v for t, v in per_task.items() if bbh.family(t) == fam and v is not None])
        scored = {f: v for f, v in per_family.items() if v is not None}
        n = len(rows) or 1
        summary[mode] = {
            "accuracy": _mean(list(scored.values())),
            "algorithmic": _mean([v for f, v in scored.items() if f in bbh.ALGORITHMIC]),
            "nlp": _mean([v for f, v in scored.items() if f in bbh.NLP]),
            "per_question": round(100 * sum(r.correct for r in rows) / n, 1),
            "per_task": per_task, "per_family": per_family, "n": len(rows),
            "lm_calls": round(sum(r.lm_calls for r in rows) / n, 2), "tokens": round(sum(r.tokens for r in rows) / n),
            "seconds": round(sum(r.seconds for r in rows) / n, 2),
            "errors": sum(1 for r in rows if r.error),
        }
    return summary


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_table(summary: dict[str, Any], modes: list[str], tasks: list[str], console: Console) -> None:
    table = Table(title="Reasoning benchmark (accuracy %; averages are means over BBH tasks)")
    table.add_column("task")
    for mode in modes:
        table.add_column(mode, justify="right")
    for task in tasks:
        table.add_row(task, *[_fmt(summary[m]["per_task"].get(task)) for m in modes])
    for key, label, ref in (("accuracy", "overall", paper.OVERALL), ("algorithmic", "algorithmic", paper.ALGORITHMIC),
                            ("nlp", "NLP", paper.NLP)):
        table.add_row(f"[bold]{label}[/bold]", *[f"[bold]{_fmt(summary[m][key])}[/bold]" for m in modes])
        table.add_row(f"  paper {label} (davinci-003)", *[str(ref.get(m, "")) for m in modes])
    table.add_row("LM calls / q", *[f"{summary[m]['lm_calls']:.1f}" for m in modes])
    table.add_row("tokens / q", *[str(summary[m]["tokens"]) for m in modes])
    table.add_row("seconds / q", *[f"{summary[m]['seconds']:.1f}" for m in modes])
    table.add_row("runs with errors", *[str(summary[m]["errors"]) for m in modes])
    console.print(table)


_LABELS = {"direct": "direct", "cot": "CoT", "coc-interweave": "CoC (interweave)", "coc-python": "CoC (Python)",
           "coc-lm": "CoC (LM)"}


def markdown_table(summary: dict[str, Any], modes: list[str], tasks: list[str]) -> str:
    """The README table: one row per BBH task (family) with the paper's Table A1 numbers beside ours, then the
    overall, algorithmic and NLP means. Paper cells without a number read from the paper show "?"."""
    families = list(dict.fromkeys(bbh.family(t) for t in tasks))
    paper_modes = [m for m in modes if m in ("direct", "cot", "coc-interweave")]
    head = ["task", *[_LABELS.get(m, m) for m in modes], *[f"paper {_LABELS[m]}" for m in paper_modes]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cells(values: list[float | None]) -> list[str]:
        return [_fmt(v) for v in values]

    for fam in families:
        n = max((sum(1 for t in tasks if bbh.family(t) == fam and summary[m]["per_task"].get(t) is not None)
                 for m in modes), default=0)
        kind = "algorithmic" if fam in bbh.ALGORITHMIC else "NLP"
        ref = paper.PER_TASK.get(fam, {})
        row = [f"{fam} ({kind}{', ' + str(n) + ' variants' if n > 1 else ''})",
               *cells([summary[m]["per_family"].get(fam) for m in modes]),
               *[str(ref[m]) if m in ref else "?" for m in paper_modes]]
        lines.append("| " + " | ".join(row) + " |")
    for key, label, ref_avg in (("accuracy", "overall (mean over tasks)", paper.OVERALL),
                                ("algorithmic", "algorithmic tasks", paper.ALGORITHMIC),
                                ("nlp", "NLP tasks", paper.NLP)):
        row = [f"**{label}**", *[f"**{_fmt(summary[m][key])}**" for m in modes],
               *[str(ref_avg.get(m, "?")) for m in paper_modes]]
        lines.append("| " + " | ".join(row) + " |")
    questions = {m: summary[m]["n"] for m in modes}
    lines.append("| questions run | " + " | ".join(str(questions[m]) for m in modes) + " |" + " |" * len(paper_modes))
    return "\n".join(lines) + "\n"


def rescore(path: Path, console: Console | None = None) -> dict[str, Any]:
    """Re-score a results JSON with today's scorer and print its table and the README markdown; rows whose
    verdict changes are reported (none should, unless the scorer changed since the run)."""
    console = console or Console()
    data = json.loads(Path(path).read_text())
    meta = data["meta"]
    try:
        results = [ItemResult(**r) for r in data["results"]]
    except TypeError as exc:
        raise ValueError(f"{path} is not a results file of this benchmark version ({exc}); only files written "
                         "since results keep the scored prediction can be re-scored") from None
    changed = []
    for r in results:
        item = bbh.Item(r.task, r.item_id, "", r.target, tuple(r.choices) if r.choices else None)
        verdict = bool(r.success and bbh.score(r.task, r.prediction, item))
        if verdict != r.correct:
            changed.append(f"{r.task} {r.item_id} {r.mode}: {r.correct} -> {verdict}")
            r.correct = verdict
    summary = summarize(results, meta["modes"], meta["tasks"])
    print_table(summary, meta["modes"], meta["tasks"], console)
    console.print(markdown_table(summary, meta["modes"], meta["tasks"]), markup=False, highlight=False,
                  soft_wrap=True)
    console.print(f"re-scored {len(results)} runs from {path}; verdicts changed: {len(changed)}", markup=False,
                  highlight=False, soft_wrap=True)
    for line in changed:
        console.print("  " + line, markup=False, highlight=False, soft_wrap=True)
    return summary
