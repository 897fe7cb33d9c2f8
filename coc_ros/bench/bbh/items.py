"""BIG-Bench Hard (BBH) style reasoning data, rebuilt offline from the BIG-bench source tasks.

BBH's own 250-item test subsets live on a dataset hub that this project cannot reach. What *is* reachable is
PyPI, and two packages there carry everything needed to rebuild the benchmark closely:

* ``bigbench==1.0.0`` (358 MB source archive, fetched with ``pip download --no-deps``; never installed, its
  install fails). pip >= 26 refuses to download it at all (its metadata has a ``file://`` URL dependency), so
  the download runs pip 24.0, itself pip-installed from PyPI into a throw-away ``--target`` folder.
  ``bigbench/benchmark_tasks/<task>/`` holds the source BIG-bench tasks BBH was curated from:
  ``task.json`` files (examples with ``target_scores`` or ``target``) and, for boolean_expressions,
  multistep_arithmetic and web_of_lies, ``task.py`` generators. Only the task folders BBH draws on are extracted
  and the archive is then deleted.
* ``lm-eval==0.4.13`` (9 MB wheel): ``lm_eval/tasks/bbh/cot_fewshot/*.yaml`` hold BBH's official 3-shot
  chain-of-thought prompts (task description + 3 exemplars, each ending "So the answer is X."), and
  ``lm_eval/tasks/bbh/fewshot/*.yaml`` the same 3 exemplars with the bare answers (the "direct" prompt).

Everything is cached under ``coc_ros.config.cache_dir() / "bench"`` by :func:`fetch_sources` (first call: about
40 s and 370 MB of download; afterwards it returns at once, offline).

Items are rendered in BBH's format (see :data:`DIFFERENCES` for where they can still differ): the question text
is phrased the way BBH phrases it (e.g. ``"...\\nOptions:\\n(A) ...\\n(B) ..."`` for multiple choice,
``"Options:\\n- Yes\\n- No"`` for binary tasks), and targets are BBH targets: ``"(A)"``, ``"True"``, ``"Yes"``,
``"yes"``, ``"24"``, ``"apple banana cherry"``.

Public API::

    fetch_sources(cache_dir=None) -> Path
    load_task(name, n, seed=0, cache_dir=None) -> list[Item]
    score(task, prediction, item) -> bool
    cot_fewshot(task) -> str            # description + 3 CoT exemplars, lm-eval's layout
    direct_fewshot(task) -> str         # description + the same 3 exemplars with only the answers
    cot_prompt(task, question) / direct_prompt(task, question) -> str   # few-shot text + the test question
    fewshot_examples(task) -> list[(question, cot_answer, final_answer)]
    TASKS, DEFAULT_TASKS, DIFFERENCES
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import types
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from coc_ros import config

BIGBENCH_VERSION = "1.0.0"
LM_EVAL_VERSION = "0.4.13"
_LEGACY_PIP = "pip==24.0"
_LAYOUT_VERSION = 1  # bump when the extracted layout changes, forces a re-fetch

# BIG-bench source folders that BBH's 23 tasks come from (all extracted; a few hundred KB in total).
_BIGBENCH_DIRS = (
    "boolean_expressions", "causal_judgment", "date_understanding", "disambiguation_qa", "dyck_languages",
    "formal_fallacies_syllogisms_negation", "geometric_shapes", "hyperbaton", "logical_deduction",
    "movie_recommendation", "multistep_arithmetic", "navigate", "object_counting", "penguins_in_a_table",
    "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection", "snarks",
    "sports_understanding", "temporal_sequences", "tracking_shuffled_objects", "web_of_lies", "word_sorting",
)

DEFAULT_TASKS = (
    "object_counting",
    "date_understanding",
    "logical_deduction_three_objects",
    "tracking_shuffled_objects_three_objects",
    "boolean_expressions",
    "multistep_arithmetic_two",
    "navigate",
    "sports_understanding",
    "web_of_lies",
    "word_sorting",
)

TASKS = DEFAULT_TASKS + (
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "causal_judgement",
    "penguins_in_a_table",
)

# Answer kinds, used by score().
_MC = "multiple_choice"  # target "(A)".."(R)"
_KIND = {
    "object_counting": "number",
    "multistep_arithmetic_two": "number",
    "boolean_expressions": "true_false",
    "navigate": "yes_no",
    "sports_understanding": "yes_no",
    "web_of_lies": "yes_no",
    "causal_judgement": "yes_no",
    "word_sorting": "words",
    "date_understanding": _MC,
    "penguins_in_a_table": _MC,
    **{f"logical_deduction_{k}_objects": _MC for k in ("three", "five", "seven")},
    **{f"tracking_shuffled_objects_{k}_objects": _MC for k in ("three", "five", "seven")},
}

DIFFERENCES = """\
How these items differ from BBH's official 250-item test subsets (which cannot be downloaded here):

1. Source pool, not BBH's subset. Items come from the full BIG-bench 1.0.0 task.json files (or task.py
   generators) that BBH was curated from, and n items are drawn from that pool with random.Random(seed). BBH
   took (at most) 250 items per task from the same sources, so our items are usually from the same
   distribution but mostly not BBH's exact items; for sports_understanding, date_understanding, etc. the pool
   is larger (e.g. 997 / 367 items) than BBH's 250. Items equal to one of the 3 few-shot exemplars (up to
   whitespace and option order) are removed from the pool.
2. Option wording and order. Multiple-choice options are the source target_scores keys with the trailing
   period removed ("The white book is the leftmost", "yellow ball"), lettered (A), (B), ... BBH's options for
   logical_deduction, tracking_shuffled_objects and penguins_in_a_table follow the source order too, which we
   keep. For date_understanding the source lists the correct date first, so we shuffle the options with a
   per-item fixed seed; BBH's own shuffle (and so the letter of the correct answer) differs.
3. Re-phrasing to BBH's templates. navigate, causal_judgement: source True/False or Yes/No targets become
   "Yes"/"No" with "Options:\\n- Yes\\n- No". sports_understanding: the source statement becomes
   'Is the following sentence plausible? "<statement>."' with target "yes"/"no" (source
   plausible/implausible). word_sorting: "Sort the following words alphabetically: List: <words>".
   object_counting: the digit form of the source target ("6", not "six"). tracking_shuffled_objects: the
   source's " \\n\\n" paragraph break becomes a single newline. penguins_in_a_table: the table prefix is put on
   one line (newlines become spaces) as BBH does; items of the source that are free-text (no target_scores)
   are dropped.
4. Generators. boolean_expressions: BIG-bench's task.py enumerator (_yield_expression, sorted then shuffled
   with the task's seed 42) restricted to expressions of 7 and 8 tokens, like BBH's ("not ( True ) and (
   True ) is"); question "<expr> is", target str(eval(expr)). multistep_arithmetic_two: the task.py generator
   (numpy RandomState(42)) with depth_levels [2] and 4 numbers per innermost bracket, the configuration BBH
   calls "two"; question "<expr> =", target str(eval(expr)). web_of_lies: the task.py generator (seed 42)
   with 5 sentences, prefixed "Question: " as in BBH; target "Yes"/"No". Generated pools hold 1000 items
   (boolean_expressions: all distinct expressions of those lengths), so BBH's exact expressions are only
   there by chance, and the generator's random module state is saved/restored around it.
5. Subtasks. logical_deduction_{three,five,seven}_objects and tracking_shuffled_objects_{three,five,seven}_
   objects use the matching BIG-bench subtask folders; all of them share the three-object few-shot exemplars,
   as in BBH. causal_judgement reads BIG-bench's causal_judgment (source spelling).
6. Scoring. score() is more lenient than BBH's exact match: it takes the text after the last
   "the answer is" (if any), is case/whitespace-insensitive, accepts "(B)", "B", "B)" or the option text for
   multiple choice, True/False and yes/no words, integers (also number words for object_counting), and
   compares word_sorting answers as word lists. BBH-style reported numbers use exact match after the
   "the answer is" extraction; expect ours to be slightly higher for sloppy outputs.
"""


@dataclasses.dataclass(frozen=True)
class Item:
    """One benchmark question in BBH format."""

    task: str
    id: str
    question: str
    target: str
    choices: tuple[str, ...] | None = None  # option texts in order (A), (B), ... or ("Yes", "No"); None if open


# ---------------------------------------------------------------------------------------------------------
# fetching


def _bench_dir(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else config.cache_dir() / "bench"


def _marker_text() -> str:
    return json.dumps({"bigbench": BIGBENCH_VERSION, "lm_eval": LM_EVAL_VERSION, "layout": _LAYOUT_VERSION,
                       "dirs": list(_BIGBENCH_DIRS)})


def _run_pip(args: list[str], timeout: float, pip_path: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pip_path is not None:
        env["PYTHONPATH"] = str(pip_path) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "pip", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"`{' '.join(cmd)}` did not finish in {timeout:.0f} s; is PyPI reachable?") from None


def _pip_error(what: str, proc: subprocess.CompletedProcess, cache: Path) -> RuntimeError:
    tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
    return RuntimeError(
        f"could not {what} from the package index (pip exited {proc.returncode}). The BBH benchmark data is "
        f"built from PyPI packages, so the first run needs PyPI access; later runs use the cache in {cache} "
        f"(COC_ROS_CACHE may point at a cache filled elsewhere).\ncommand: {' '.join(map(str, proc.args))}\n"
        f"pip said:\n{tail}"
    )


def _legacy_pip(dest: Path, timeout: float, cache: Path) -> Path:
    """pip >= 26 refuses to even download bigbench 1.0.0's sdist (its metadata declares a ``file://`` URL
    dependency on bleurt, rejected for PyPI-hosted files even with --no-deps); pip 24.0, installed into a
    throw-away --target folder and put first on PYTHONPATH, downloads it fine."""
    proc = _run_pip(["install", "--disable-pip-version-check", "--no-deps", "--quiet", "--target", str(dest),
                     _LEGACY_PIP], timeout)
    if proc.returncode != 0:
        raise _pip_error(f"install {_LEGACY_PIP} (needed to download bigbench)", proc, cache)
    return dest


def _pip_download(spec: str, dest: Path, timeout: float, cache: Path, pip_path: Path | None = None) -> Path:
    proc = _run_pip(["download", "--no-deps", "--disable-pip-version-check", "-d", str(dest), spec], timeout,
                    pip_path)
    if proc.returncode != 0:
        raise _pip_error(f"download {spec}", proc, cache)
    name = spec.split("==")[0].replace("-", "_").lower()
    found = [p for p in dest.iterdir() if p.name.replace("-", "_").lower().startswith(name)]
    if not found:
        raise RuntimeError(f"pip reported success for {spec} but left no file in {dest}")
    return found[0]


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fetch_sources(cache_dir: str | Path | None = None, *, timeout: float = 1800.0, verbose: bool = False) -> Path:
    """Make sure the BIG-bench task sources and lm-eval's BBH prompts are cached; return the cache folder.

    Layout of the returned folder: ``bigbench/<task>/...`` (task.json / task.py of the BIG-bench tasks BBH
    uses) and ``lm_eval_bbh/{cot_fewshot,fewshot}/*.yaml``. Idempotent and safe to call from parallel processes.
    Raises RuntimeError with pip's message if the package index cannot be reached.
    """
    root = _bench_dir(cache_dir)
    marker = root / ".complete"
    if marker.is_file() and marker.read_text() == _marker_text():
        return root
    with _locked(root.parent / f".{root.name}.lock"):
        if marker.is_file() and marker.read_text() == _marker_text():
            return root
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=".fetch-") as tmp_s:
            tmp = Path(tmp_s)
            dl = tmp / "dl"
            dl.mkdir()
            t0 = time.monotonic()
            wheel = _pip_download(f"lm-eval=={LM_EVAL_VERSION}", dl, timeout, root)
            lm_out = tmp / "lm_eval_bbh"
            with zipfile.ZipFile(wheel) as zf:
                prefix = "lm_eval/tasks/bbh/"
                for info in zf.infolist():
                    sub = info.filename[len(prefix):] if info.filename.startswith(prefix) else None
                    if not sub or info.is_dir() or sub.split("/")[0] not in ("cot_fewshot", "fewshot"):
                        continue
                    out = lm_out / sub
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(zf.read(info))
            wheel.unlink()
            if verbose:
                print(f"lm-eval {LM_EVAL_VERSION}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
            t0 = time.monotonic()
            pip_path = _legacy_pip(tmp / "pip", timeout, root)
            sdist = _pip_download(f"bigbench=={BIGBENCH_VERSION}", dl, timeout, root, pip_path)
            if verbose:
                print(f"bigbench {BIGBENCH_VERSION}: {sdist.stat().st_size / 1e6:.0f} MB in "
                      f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
            bb_out = tmp / "bigbench"
            wanted = tuple(f"bigbench/benchmark_tasks/{d}/" for d in _BIGBENCH_DIRS)
            with tarfile.open(sdist, "r:gz") as tf:
                for member in tf:
                    if not member.isfile():
                        continue
                    parts = member.name.split("/", 1)
                    if len(parts) < 2 or not parts[1].startswith(wanted):
                        continue
                    rel = parts[1][len("bigbench/benchmark_tasks/"):]
                    if ".." in rel.split("/") or not rel.endswith((".json", ".py", ".md", ".txt")):
                        continue
                    src = tf.extractfile(member)
                    if src is None:
                        continue
                    out = bb_out / rel
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(src.read())
            sdist.unlink()
            missing = [d for d in _BIGBENCH_DIRS if not (bb_out / d).is_dir()]
            if missing or not (lm_out / "cot_fewshot").is_dir():
                raise RuntimeError(f"downloaded archives lack expected folders: {missing or 'lm_eval bbh yaml'}")
            for name, new in (("bigbench", bb_out), ("lm_eval_bbh", lm_out)):
                old = root / name
                if old.exists():
                    shutil.rmtree(old)
                new.rename(old)
        marker.write_text(_marker_text())
        _load_pool.cache_clear()
    return root


# ---------------------------------------------------------------------------------------------------------
# few-shot prompts (lm-eval's yaml)


def _check_task(task: str) -> None:
    if task not in _KIND:
        raise KeyError(f"unknown or unsupported BBH task {task!r}; supported: {', '.join(TASKS)}")


@lru_cache(maxsize=None)
def _yaml(task: str, kind: str, root: str) -> dict[str, Any]:
    path = Path(root) / "lm_eval_bbh" / kind / f"{task}.yaml"
    return yaml.safe_load(path.read_text())


def _prompt_root(cache_dir: str | Path | None = None) -> str:
    return str(fetch_sources(cache_dir))


_FINAL_RE = re.compile(r"So the answer is (.*)\.\s*$", re.S)


def fewshot_examples(task: str, cache_dir: str | Path | None = None) -> list[tuple[str, str, str]]:
    """BBH's 3 exemplars for ``task``: (question, chain-of-thought answer, final answer in target format)."""
    _check_task(task)
    root = _prompt_root(cache_dir)
    cot = _yaml(task, "cot_fewshot", root)["fewshot_config"]["samples"]
    direct = _yaml(task, "fewshot", root)["fewshot_config"]["samples"]
    out = []
    for c, d in zip(cot, direct):
        if c["input"] != d["input"]:
            raise ValueError(f"lm-eval cot/direct exemplars of {task} disagree")
        out.append((c["input"], c["target"], str(d["target"])))
    return out


def _description(task: str, root: str) -> str:
    return _yaml(task, "cot_fewshot", root).get("description", "")


def cot_fewshot(task: str, cache_dir: str | Path | None = None) -> str:
    """BBH's 3-shot CoT prompt exactly as lm-eval lays it out; append ``"Q: {question}\\nA: Let's think step by
    step.\\n"`` (see :func:`cot_prompt`) and read the answer after "So the answer is"."""
    root = _prompt_root(cache_dir)
    shots = [f"Q: {q}\nA: Let's think step by step.\n{cot}" for q, cot, _ in fewshot_examples(task, cache_dir)]
    return _description(task, root) + "\n\n".join(shots) + "\n\n"


def direct_fewshot(task: str, cache_dir: str | Path | None = None) -> str:
    """The same 3 exemplars with only the final answers (lm-eval's bbh/fewshot layout)."""
    root = _prompt_root(cache_dir)
    shots = [f"Q: {q}\nA: {ans}" for q, _, ans in fewshot_examples(task, cache_dir)]
    return _description(task, root) + "\n\n".join(shots) + "\n\n"


def cot_prompt(task: str, question: str, cache_dir: str | Path | None = None) -> str:
    return cot_fewshot(task, cache_dir) + f"Q: {question}\nA: Let's think step by step.\n"


def direct_prompt(task: str, question: str, cache_dir: str | Path | None = None) -> str:
    return direct_fewshot(task, cache_dir) + f"Q: {question}\nA:"


# ---------------------------------------------------------------------------------------------------------
# items


_LETTERS = "ABCDEFGHIJKLMNOPQR"


def _options_block(options: list[str]) -> str:
    return "Options:\n" + "\n".join(f"({_LETTERS[i]}) {o}" for i, o in enumerate(options))


def _mc_item(task: str, idx: int, stem: str, target_scores: dict[str, Any], shuffle: bool = False) -> Item | None:
    options = [k.strip().rstrip(".").strip() for k in target_scores]
    correct = [k.strip().rstrip(".").strip() for k, v in target_scores.items() if v == 1 or v is True]
    if len(correct) != 1 or len(options) > len(_LETTERS):
        return None
    if shuffle:
        random.Random(f"{task}:{idx}").shuffle(options)
    target = f"({_LETTERS[options.index(correct[0])]})"
    return Item(task, f"{task}/{idx}", f"{stem}\n{_options_block(options)}", target, tuple(options))


def _yes_no_item(task: str, idx: int, stem: str, truth: bool, lower: bool = False) -> Item:
    yes, no = ("yes", "no") if lower else ("Yes", "No")
    return Item(task, f"{task}/{idx}", stem, yes if truth else no, (yes, no))


def _json_examples(root: Path, rel: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = json.loads((root / "bigbench" / rel / "task.json").read_text())
    return data, data.get("examples", [])


def _positive(target_scores: dict[str, Any], key: str) -> bool:
    return bool(target_scores.get(key))


def _build_json_task(task: str, root: Path) -> list[Item]:
    items: list[Item] = []
    if task == "object_counting":
        _, exs = _json_examples(root, "object_counting")
        for i, e in enumerate(exs):
            digits = [t for t in e["target"] if str(t).strip().lstrip("-").isdigit()]
            if digits:
                items.append(Item(task, f"{task}/{i}", e["input"].strip(), str(int(digits[0]))))
    elif task == "date_understanding":
        _, exs = _json_examples(root, "date_understanding")
        for i, e in enumerate(exs):
            it = _mc_item(task, i, e["input"].strip(), e["target_scores"], shuffle=True)
            if it:
                items.append(it)
    elif task.startswith(("logical_deduction_", "tracking_shuffled_objects_")):
        base, sub = task.rsplit("_", 2)[0], "_".join(task.rsplit("_", 2)[1:])
        data, exs = _json_examples(root, f"{base}/{sub}")
        prefix = data.get("task_prefix", "").strip()
        for i, e in enumerate(exs):
            text = re.sub(r"[ \t]*\n\s*", "\n", e["input"]).strip()
            stem = f"{prefix} {text}" if prefix else text
            it = _mc_item(task, i, stem, e["target_scores"])
            if it:
                items.append(it)
    elif task == "navigate":
        data, exs = _json_examples(root, "navigate")
        prefix = data.get("task_prefix", "").strip()
        for i, e in enumerate(exs):
            stem = f"{prefix} {e['input'].strip()}\nOptions:\n- Yes\n- No"
            items.append(_yes_no_item(task, i, stem, _positive(e["target_scores"], "True")))
    elif task == "causal_judgement":
        data, exs = _json_examples(root, "causal_judgment")
        prefix = data.get("task_prefix", "").strip()
        for i, e in enumerate(exs):
            stem = f"{prefix}\n{e['input'].strip()}\nOptions:\n- Yes\n- No"
            items.append(_yes_no_item(task, i, stem, _positive(e["target_scores"], "Yes")))
    elif task == "sports_understanding":
        _, exs = _json_examples(root, "sports_understanding")
        for i, e in enumerate(exs):
            sent = e["input"].strip()
            if not sent.endswith((".", "!", "?")):
                sent += "."
            stem = f'Is the following sentence plausible? "{sent}"'
            items.append(_yes_no_item(task, i, stem, _positive(e["target_scores"], "plausible"), lower=True))
    elif task == "word_sorting":
        _, exs = _json_examples(root, "word_sorting")
        for i, e in enumerate(exs):
            words = " ".join(e["input"].split())
            items.append(Item(task, f"{task}/{i}", f"Sort the following words alphabetically: List: {words}",
                              " ".join(str(e["target"]).split())))
    elif task == "penguins_in_a_table":
        data, exs = _json_examples(root, "penguins_in_a_table")
        prefix = data.get("task_prefix", "").replace("\n", " ")
        for i, e in enumerate(exs):
            if "target_scores" not in e:
                continue
            it = _mc_item(task, i, prefix + " " + e["input"].strip(), e["target_scores"])
            if it:
                items.append(it)
    else:  # pragma: no cover - guarded by _check_task
        raise KeyError(task)
    return items


def _import_generator(path: Path, module_name: str) -> types.ModuleType:
    """Import a BIG-bench task.py without BIG-bench installed: a minimal stand-in for ``bigbench.api.task``."""

    class _Task:  # the generators only subclass it
        pass

    class _Anything:
        def __init__(self, *a: Any, **k: Any) -> None:
            self.args, self.kwargs = a, k

    api_task = types.ModuleType("bigbench.api.task")
    api_task.Task = _Task
    api_task.TaskMetadata = _Anything
    api_task.ScoreData = _Anything
    stubs = {"bigbench": types.ModuleType("bigbench"), "bigbench.api": types.ModuleType("bigbench.api"),
             "bigbench.api.task": api_task}
    stubs["bigbench"].api = stubs["bigbench.api"]  # type: ignore[attr-defined]
    stubs["bigbench.api"].task = api_task  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


_POOL = 1000


def _build_generated_task(task: str, root: Path) -> list[Item]:
    state = random.getstate()  # the BIG-bench generators seed and use the global random module
    try:
        if task == "boolean_expressions":
            mod = _import_generator(root / "bigbench" / "boolean_expressions" / "task.py", "_bb_boolean_expressions")
            gen = mod.BooleanExpressionsTask(seed=42)
            exprs: list[tuple[str, ...]] = []
            for length in (7, 8):
                exprs += sorted(gen._yield_expression(length))
            random.shuffle(exprs)
            items = []
            for i, toks in enumerate(exprs):
                answer, text = gen._eval_expression(toks)
                items.append(Item(task, f"{task}/{i}", text.strip(), str(bool(answer)), ("True", "False")))
            return items
        if task == "multistep_arithmetic_two":
            mod = _import_generator(root / "bigbench" / "multistep_arithmetic" / "task.py", "_bb_multistep")
            gen = mod.MultistepArithmeticTask(seed=42)
            items, seen = [], set()
            while len(items) < _POOL:
                expr = gen.generate_string(depth_levels=[2], length=4)
                if expr in seen:
                    continue
                seen.add(expr)
                items.append(Item(task, f"{task}/{len(items)}", f"{expr} =", str(eval(expr, {"__builtins__": {}}))))
            return items
        if task == "web_of_lies":
            mod = _import_generator(root / "bigbench" / "web_of_lies" / "task.py", "_bb_web_of_lies")
            gen = mod.WebOfLiesTask(seed=42)
            items, seen = [], set()
            while len(items) < _POOL:
                q, ans = gen._get_expression(5)
                if q in seen:
                    continue
                seen.add(q)
                items.append(_yes_no_item(task, len(items), f"Question: {q}", bool(ans)))
            return items
    finally:
        random.setstate(state)
    raise KeyError(task)


_GENERATED = ("boolean_expressions", "multistep_arithmetic_two", "web_of_lies")


@lru_cache(maxsize=None)
def _load_pool(task: str, root: str) -> tuple[Item, ...]:
    r = Path(root)
    items = _build_generated_task(task, r) if task in _GENERATED else _build_json_task(task, r)
    shots = {_dedup_key(q) for q, _, _ in fewshot_examples(task, root)}
    return tuple(it for it in items if _dedup_key(it.question) not in shots)


def _dedup_key(question: str) -> tuple[str, tuple[str, ...]]:
    """Question identity up to whitespace and option order (to drop the few-shot exemplars from the pool)."""
    stem, _, opts = question.partition("\nOptions:\n")
    options = sorted(re.sub(r"^(\([A-R]\)|-)\s*", "", ln.strip()).rstrip(".") for ln in opts.splitlines())
    return " ".join(stem.split()), tuple(options)


def pool_size(task: str, cache_dir: str | Path | None = None) -> int:
    """How many distinct items ``load_task`` can draw from for ``task``."""
    _check_task(task)
    return len(_load_pool(task, str(fetch_sources(cache_dir))))


def load_task(name: str, n: int | None = None, seed: int = 0, cache_dir: str | Path | None = None) -> list[Item]:
    """A fixed-seed sample of ``n`` items of BBH task ``name`` (all items, in source order, when n is None)."""
    _check_task(name)
    pool = list(_load_pool(name, str(fetch_sources(cache_dir))))
    if n is None:
        return pool
    if n < 0:
        raise ValueError("n must be >= 0")
    return random.Random(seed).sample(pool, min(n, len(pool)))


# ---------------------------------------------------------------------------------------------------------
# scoring

_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


def _answer_span(prediction: str) -> str:
    text = str(prediction).strip()
    hits = list(re.finditer(r"answer is[:\s]*", text, re.I))
    if hits:
        text = text[hits[-1].end():]
    text = text.strip().strip("`'\"").strip()
    # drop a trailing sentence period (but keep "3.5"-like numbers intact)
    return re.sub(r"\.\s*$", "", text).strip()


def _first_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[0].strip() if lines else ""


def _norm(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s/()-]", " ", s.lower()).split())


def _mc_letter(span: str, item: Item) -> str | None:
    m = re.search(r"\(([A-R])\)", span, re.I)
    if m:
        return m.group(1).upper()
    m = re.fullmatch(r"\s*(?:option\s+)?([A-R])\s*[).:]?\s*", span, re.I)
    if m:
        return m.group(1).upper()
    if item.choices:
        s = _norm(span)
        for i, opt in enumerate(item.choices):
            if s and s == _norm(opt):
                return _LETTERS[i]
    return None


def _bool_word(span: str, words: dict[str, bool]) -> bool | None:
    toks = re.findall(r"[a-z]+", span.lower())
    for t in toks:
        if t in words:
            return words[t]
    return None


def _number(span: str, allow_words: bool) -> int | None:
    m = re.search(r"-?\d[\d,]*", span)
    if m:
        try:
            return int(m.group(0).replace(",", ""))
        except ValueError:
            return None
    if allow_words:
        for t in re.findall(r"[a-z]+", span.lower()):
            if t in _NUMBER_WORDS:
                return _NUMBER_WORDS[t]
    return None


def _words(span: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", re.sub(r"[\"'\[\]]", " ", span.lower())) if w]


def score(task: str, prediction: Any, item: Item) -> bool:
    """BBH-style correctness of ``prediction`` (raw model text or a program's ``answer``) for ``item``."""
    _check_task(task)
    if prediction is None:
        return False
    kind = _KIND[task]
    if isinstance(prediction, bool) and kind == "true_false":
        return str(prediction) == item.target
    if isinstance(prediction, bool) and kind == "yes_no":
        return (prediction and item.target.lower() == "yes") or (not prediction and item.target.lower() == "no")
    if isinstance(prediction, (list, tuple)) and kind == "words":
        prediction = " ".join(map(str, prediction))
    span = _answer_span(str(prediction))
    if kind == _MC:
        return _mc_letter(span, item) == item.target.strip("()")
    if kind == "true_false":
        got = _bool_word(_first_line(span), {"true": True, "false": False})
        return got is not None and str(got) == item.target
    if kind == "yes_no":
        got = _bool_word(_first_line(span), {"yes": True, "no": False, "true": True, "false": False,
                                             "plausible": True, "implausible": False})
        return got is not None and got == (item.target.lower() == "yes")
    if kind == "number":
        got = _number(_first_line(span), allow_words=task == "object_counting")
        return got is not None and got == int(item.target)
    if kind == "words":
        return _words(_first_line(span)) == _words(item.target)
    raise KeyError(kind)  # pragma: no cover


def answer_kind(task: str) -> str:
    """'multiple_choice', 'true_false', 'yes_no', 'number' or 'words'."""
    _check_task(task)
    return _KIND[task]
