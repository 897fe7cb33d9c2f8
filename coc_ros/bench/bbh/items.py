"""BBH items rebuilt from the BIG-bench source tasks: one builder per task renders the source examples in BBH's
question format with BBH-style targets; :func:`load_task` draws a fixed-seed sample with the few-shot exemplars
removed.

Questions are phrased the way BBH phrases them (``"...\\nOptions:\\n(A) ...\\n(B) ..."`` for multiple choice,
``"Options:\\n- Yes\\n- No"`` for binary tasks) and targets are BBH targets (``"(A)"``, ``"True"``, ``"Yes"``,
``"yes"``, ``"valid"``, ``"24"``, ``"] } ]"``, ``"apple banana cherry"``). Where they can still differ from BBH's
own items is written down in ``coc_ros/bench/data/bbh_differences.md`` (:data:`DIFFERENCES`).
"""
from __future__ import annotations

import dataclasses
import importlib.resources
import importlib.util
import json
import random
import re
import sys
import types
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from coc_ros.bench.bbh import prompts, sources
from coc_ros.bench.bbh.tasks import check_task

DIFFERENCES: str = importlib.resources.files("coc_ros.bench").joinpath("data/bbh_differences.md").read_text()

LETTERS = "ABCDEFGHIJKLMNOPQR"


@dataclasses.dataclass(frozen=True)
class Item:
    """One benchmark question in BBH format."""

    task: str
    id: str
    question: str
    target: str
    choices: tuple[str, ...] | None = None  # option texts in order (A), (B), ... or ("Yes", "No"); None if open


# --------------------------------------------------------------------------------------------- item shapes


def _options_block(options: list[str]) -> str:
    return "Options:\n" + "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))


def _option_text(key: str) -> str:
    return key.strip().rstrip(".").strip()


def _mc_item(task: str, idx: int, stem: str, target_scores: dict[str, Any], shuffle: bool = False,
             target: str | None = None) -> Item | None:
    """A multiple-choice item from BIG-bench's ``target_scores``; None unless exactly one option is right (or
    ``target``, the source's own single target, names one of several right ones)."""
    options = [_option_text(k) for k in target_scores]
    correct = [_option_text(k) for k, v in target_scores.items() if v == 1 or v is True]
    if len(correct) > 1 and target is not None and _option_text(target) in correct:
        correct = [_option_text(target)]
    if len(correct) != 1 or len(options) > len(LETTERS) or len(set(options)) != len(options):
        return None
    if shuffle:
        random.Random(f"{task}:{idx}").shuffle(options)
    target = f"({LETTERS[options.index(correct[0])]})"
    return Item(task, f"{task}/{idx}", f"{stem}\n{_options_block(options)}", target, tuple(options))


def _binary_item(task: str, idx: int, stem: str, truth: bool, words: tuple[str, str] = ("Yes", "No")) -> Item:
    """A two-answer item; ``words`` is (answer when true, answer when false) in BBH's spelling."""
    return Item(task, f"{task}/{idx}", stem, words[0] if truth else words[1], words)


def _correct_key(target_scores: dict[str, Any]) -> str | None:
    keys = [k for k, v in target_scores.items() if v == 1 or v is True]
    return keys[0] if len(keys) == 1 else None


# --------------------------------------------------------------------------------------------- task.json tasks

Examples = list[dict[str, Any]]
Builder = Callable[[str, dict[str, Any], Examples], list[Item]]
_JSON_BUILDERS: dict[str, tuple[str, Builder]] = {}  # task -> (BIG-bench folder, builder)


def _builds(task: str, folder: str | None = None) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        _JSON_BUILDERS[task] = (folder or task, fn)
        return fn
    return register


def _mc_items(task: str, exs: Examples, stem: Callable[[dict[str, Any]], str], shuffle: bool = False) -> list[Item]:
    items = [_mc_item(task, i, stem(e), e["target_scores"], shuffle) for i, e in enumerate(exs) if "target_scores" in e]
    return [it for it in items if it is not None]


def _prefix(data: dict[str, Any]) -> str:
    return str(data.get("task_prefix", "")).strip()


@_builds("object_counting")
def _object_counting(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    items = []
    for i, e in enumerate(exs):
        digits = [t for t in e["target"] if str(t).strip().lstrip("-").isdigit()]
        if digits:
            items.append(Item(task, f"{task}/{i}", e["input"].strip(), str(int(digits[0]))))
    return items


@_builds("date_understanding")
def _date_understanding(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    # the source lists the correct date first: shuffle with a per-item fixed seed
    return _mc_items(task, exs, lambda e: e["input"].strip(), shuffle=True)


def _ordering_task(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    """logical_deduction / tracking_shuffled_objects: the source's paragraph breaks become single newlines."""
    prefix = _prefix(data)

    def stem(e: dict[str, Any]) -> str:
        text = re.sub(r"[ \t]*\n\s*", "\n", e["input"]).strip()
        return f"{prefix} {text}" if prefix else text

    return _mc_items(task, exs, stem)


for _n in ("three", "five", "seven"):
    _builds(f"logical_deduction_{_n}_objects", f"logical_deduction/{_n}_objects")(_ordering_task)
    _builds(f"tracking_shuffled_objects_{_n}_objects", f"tracking_shuffled_objects/{_n}_objects")(_ordering_task)


@_builds("navigate")
def _navigate(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    prefix = _prefix(data)
    return [_binary_item(task, i, f"{prefix} {e['input'].strip()}\nOptions:\n- Yes\n- No",
                         bool(e["target_scores"].get("True"))) for i, e in enumerate(exs)]


@_builds("causal_judgement", "causal_judgment")
def _causal_judgement(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    prefix = _prefix(data)
    return [_binary_item(task, i, f"{prefix}\n{e['input'].strip()}\nOptions:\n- Yes\n- No",
                         bool(e["target_scores"].get("Yes"))) for i, e in enumerate(exs)]


@_builds("sports_understanding")
def _sports_understanding(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    items = []
    for i, e in enumerate(exs):
        sentence = e["input"].strip()
        if not sentence.endswith((".", "!", "?")):
            sentence += "."
        items.append(_binary_item(task, i, f'Is the following sentence plausible? "{sentence}"',
                                  bool(e["target_scores"].get("plausible")), ("yes", "no")))
    return items


@_builds("word_sorting")
def _word_sorting(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    return [Item(task, f"{task}/{i}", f"Sort the following words alphabetically: List: {' '.join(e['input'].split())}",
                 " ".join(str(e["target"]).split())) for i, e in enumerate(exs)]


@_builds("penguins_in_a_table")
def _penguins_in_a_table(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    prefix = str(data.get("task_prefix", "")).replace("\n", " ")
    return _mc_items(task, exs, lambda e: prefix + " " + e["input"].strip())  # free-text items are dropped


@_builds("disambiguation_qa")
def _disambiguation_qa(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    prefix = _prefix(data)
    return _mc_items(task, exs, lambda e: f"{prefix}\nSentence: {e['input'].strip()}")


@_builds("dyck_languages")
def _dyck_languages(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    prefix = _prefix(data)
    items = []
    for i, e in enumerate(exs):
        key = _correct_key(e.get("target_scores", {}))
        if key:  # open answer, as in BBH: the closing sequence itself
            items.append(Item(task, f"{task}/{i}", f"{prefix} Input: {' '.join(e['input'].split())}",
                              " ".join(key.split())))
    return items


@_builds("formal_fallacies", "formal_fallacies_syllogisms_negation")
def _formal_fallacies(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    items = []
    for i, e in enumerate(exs):
        stem = re.sub(r"\n[ \t]+", "\n", e["input"].strip())
        items.append(_binary_item(task, i, f"{stem}\nOptions:\n- valid\n- invalid",
                                  bool(e["target_scores"].get("valid")), ("valid", "invalid")))
    return items


@_builds("geometric_shapes")
def _geometric_shapes(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    # some paths have two right names (circle/ellipse, rectangle/trapezoid): the source's "target" picks one
    items = [_mc_item(task, i, e["input"].strip(), e["target_scores"], target=e.get("target"))
             for i, e in enumerate(exs)]
    return [it for it in items if it is not None]


_HYPERBATON_RE = re.compile(r'^(.*?:)\s*a "\s*(.*?)\s*"\s*b "\s*(.*?)\s*"\s*\?$', re.S)


@_builds("hyperbaton")
def _hyperbaton(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    items = []
    for i, e in enumerate(exs):
        m = _HYPERBATON_RE.match(e["input"].strip())
        if m:
            it = _mc_item(task, i, m.group(1), {m.group(2): e["target_scores"].get("a"),
                                                 m.group(3): e["target_scores"].get("b")})
            if it:
                items.append(it)
    return items


@_builds("movie_recommendation")
def _movie_recommendation(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    return _mc_items(task, exs, lambda e: f"Find a movie similar to {e['input'].strip()}")


@_builds("reasoning_about_colored_objects")
def _colored_objects(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    # counting questions list every number twice ("3" and "three"); BBH's options are the words only
    words_only = [{**e, "target_scores": {k: v for k, v in e["target_scores"].items() if not k.isdigit()}}
                  for e in exs]
    return _mc_items(task, words_only, lambda e: e["input"].strip())


@_builds("ruin_names")
def _ruin_names(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    return _mc_items(task, exs, lambda e: e["input"].strip())


@_builds("salient_translation_error_detection")
def _salient_translation(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    prefix = " ".join(str(data.get("task_prefix", "")).split("\n")).strip()
    return _mc_items(task, exs, lambda e: f"{prefix}  {e['input'].strip()}")


_SNARKS_RE = re.compile(r"^(.*?)\s*\(a\)\s*(.*?)\s*\(b\)\s*(.*)$", re.S)


@_builds("snarks")
def _snarks(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    items = []
    for i, e in enumerate(exs):
        m = _SNARKS_RE.match(e["input"].strip())
        if m:
            it = _mc_item(task, i, m.group(1), {m.group(2): e["target_scores"].get("(a)"),
                                                 m.group(3): e["target_scores"].get("(b)")})
            if it:
                items.append(it)
    return items


@_builds("temporal_sequences")
def _temporal_sequences(task: str, data: dict[str, Any], exs: Examples) -> list[Item]:
    # the source lists the right time span first: shuffle with a per-item fixed seed
    return _mc_items(task, exs, lambda e: re.sub(r"[ \t]+\n", "\n", e["input"].strip()), shuffle=True)


def _build_json_task(task: str, root: Path) -> list[Item]:
    folder, build = _JSON_BUILDERS[task]
    data = json.loads((root / "bigbench" / folder / "task.json").read_text())
    return build(task, data, data.get("examples", []))


# --------------------------------------------------------------------------------------------- task.py generators


def _import_generator(path: Path, module_name: str) -> types.ModuleType:
    """Import a BIG-bench task.py without BIG-bench installed: a minimal stand-in for ``bigbench.api.task``."""

    class _Task:  # the generators only subclass it
        pass

    class _Anything:
        def __init__(self, *a: Any, **k: Any) -> None:
            self.args, self.kwargs = a, k

    api_task = types.ModuleType("bigbench.api.task")
    api_task.Task = _Task  # type: ignore[attr-defined]
    api_task.TaskMetadata = _Anything  # type: ignore[attr-defined]
    api_task.ScoreData = _Anything  # type: ignore[attr-defined]
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


def _boolean_expressions(task: str, root: Path) -> list[Item]:
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


def _multistep_arithmetic(task: str, root: Path) -> list[Item]:
    mod = _import_generator(root / "bigbench" / "multistep_arithmetic" / "task.py", "_bb_multistep")
    gen = mod.MultistepArithmeticTask(seed=42)
    items: list[Item] = []
    seen: set[str] = set()
    while len(items) < _POOL:
        expr = gen.generate_string(depth_levels=[2], length=4)
        if expr not in seen:
            seen.add(expr)
            items.append(Item(task, f"{task}/{len(items)}", f"{expr} =", str(eval(expr, {"__builtins__": {}}))))
    return items


def _web_of_lies(task: str, root: Path) -> list[Item]:
    mod = _import_generator(root / "bigbench" / "web_of_lies" / "task.py", "_bb_web_of_lies")
    gen = mod.WebOfLiesTask(seed=42)
    items: list[Item] = []
    seen: set[str] = set()
    while len(items) < _POOL:
        q, ans = gen._get_expression(5)
        if q not in seen:
            seen.add(q)
            items.append(_binary_item(task, len(items), f"Question: {q}", bool(ans)))
    return items


_GENERATORS: dict[str, Callable[[str, Path], list[Item]]] = {
    "boolean_expressions": _boolean_expressions,
    "multistep_arithmetic_two": _multistep_arithmetic,
    "web_of_lies": _web_of_lies,
}


def _build_generated_task(task: str, root: Path) -> list[Item]:
    state = random.getstate()  # the BIG-bench generators seed and use the global random module
    try:
        return _GENERATORS[task](task, root)
    finally:
        random.setstate(state)


# --------------------------------------------------------------------------------------------- sampling


@cache
def _load_pool(task: str, root: str) -> tuple[Item, ...]:
    r = Path(root)
    items = _build_generated_task(task, r) if task in _GENERATORS else _build_json_task(task, r)
    shots = {_dedup_key(q) for q, _, _ in prompts.fewshot_examples(task, root)}
    return tuple(it for it in items if _dedup_key(it.question) not in shots)


sources.on_refetch(_load_pool.cache_clear)


def _dedup_key(question: str) -> tuple[str, tuple[str, ...]]:
    """Question identity up to whitespace and option order (to drop the few-shot exemplars from the pool)."""
    stem, _, opts = question.partition("\nOptions:\n")
    options = sorted(re.sub(r"^(\([A-R]\)|-)\s*", "", ln.strip()).rstrip(".") for ln in opts.splitlines())
    return " ".join(stem.split()), tuple(options)


def pool_size(task: str, cache_dir: str | Path | None = None) -> int:
    """How many distinct items ``load_task`` can draw from for ``task``."""
    check_task(task)
    return len(_load_pool(task, str(sources.fetch_sources(cache_dir))))


def load_task(name: str, n: int | None = None, seed: int = 0, cache_dir: str | Path | None = None) -> list[Item]:
    """A fixed-seed sample of ``n`` items of BBH task ``name`` (all items, in source order, when n is None)."""
    check_task(name)
    pool = list(_load_pool(name, str(sources.fetch_sources(cache_dir))))
    if n is None:
        return pool
    if n < 0:
        raise ValueError("n must be >= 0")
    return random.Random(seed).sample(pool, min(n, len(pool)))
