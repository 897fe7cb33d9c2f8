"""Few-shot material for every mode, from one place each: BBH's three exemplars per task come from lm-eval's yaml
(question, chain of thought, final answer), and the Chain of Code programs for those same exemplars come from
the package's data files ``coc_ros/bench/data/coc_fewshot/<family>.yaml``, joined here with the questions.

So ``direct``, ``cot`` and every CoC mode see the same three questions per task, and a program file holds only
what is ours: the programs, plus the values the LM is expected to give for the helper calls they make (the unit
test runs each program through the engine with those values and checks it reaches BBH's target).
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from coc_ros.bench.bbh import sources
from coc_ros.bench.bbh.tasks import check_task, family
from coc_ros.engine import prompts as engine_prompts
from coc_ros.engine.prompts import FewShot

COC_DATA = "data/coc_fewshot"  # under the coc_ros.bench package


@dataclasses.dataclass(frozen=True)
class CocShot:
    """One Chain of Code exemplar program and what the LM should answer for its undefined helper calls."""

    program: str
    lmulator: dict[str, Any]  # call as the interpreter shows it, e.g. "is_fruit('plum')" -> True


# --------------------------------------------------------------------------------------------- lm-eval (BBH)


@cache
def _yaml(task: str, kind: str, root: str) -> dict[str, Any]:
    return yaml.safe_load((Path(root) / "lm_eval_bbh" / kind / f"{task}.yaml").read_text())


sources.on_refetch(_yaml.cache_clear)


def _root(cache_dir: str | Path | None) -> str:
    return str(sources.fetch_sources(cache_dir))


def fewshot_examples(task: str, cache_dir: str | Path | None = None) -> list[tuple[str, str, str]]:
    """BBH's 3 exemplars for ``task``: (question, chain-of-thought answer, final answer in target format)."""
    check_task(task)
    root = _root(cache_dir)
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
    shots = [f"Q: {q}\nA: Let's think step by step.\n{cot}" for q, cot, _ in fewshot_examples(task, cache_dir)]
    return _description(task, _root(cache_dir)) + "\n\n".join(shots) + "\n\n"


def direct_fewshot(task: str, cache_dir: str | Path | None = None) -> str:
    """The same 3 exemplars with only the final answers (lm-eval's bbh/fewshot layout)."""
    shots = [f"Q: {q}\nA: {ans}" for q, _, ans in fewshot_examples(task, cache_dir)]
    return _description(task, _root(cache_dir)) + "\n\n".join(shots) + "\n\n"


def cot_prompt(task: str, question: str, cache_dir: str | Path | None = None) -> str:
    return cot_fewshot(task, cache_dir) + f"Q: {question}\nA: Let's think step by step.\n"


def direct_prompt(task: str, question: str, cache_dir: str | Path | None = None) -> str:
    return direct_fewshot(task, cache_dir) + f"Q: {question}\nA:"


# --------------------------------------------------------------------------------------------- Chain of Code


def _coc_file(fam: str) -> Any:
    return importlib.resources.files("coc_ros.bench").joinpath(f"{COC_DATA}/{fam}.yaml")


@cache
def coc_shots(task: str) -> tuple[CocShot, ...]:
    """The Chain of Code programs for BBH's 3 exemplars of ``task`` (its 3/5/7-object variants share them)."""
    fam = family(task)
    path = _coc_file(fam)
    if not path.is_file():
        raise KeyError(f"no Chain of Code programs for {task!r} ({COC_DATA}/{fam}.yaml is missing)")
    data = yaml.safe_load(path.read_text())
    return tuple(CocShot(program=s["program"], lmulator=dict(s.get("lmulator") or {})) for s in data["shots"])


def coc_examples(task: str, cache_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """(question, program) pairs: BBH's exemplar questions with our programs for them."""
    questions = [q for q, _, _ in fewshot_examples(task, cache_dir)]
    shots = coc_shots(task)
    if len(shots) != len(questions):
        raise ValueError(f"{family(task)}.yaml has {len(shots)} programs for {len(questions)} BBH exemplars")
    return [(q, s.program) for q, s in zip(questions, shots)]


def fewshot(task: str, cache_dir: str | Path | None = None) -> FewShot:
    """Everything the engine needs to prompt any mode on ``task``."""
    return FewShot(coc_examples=coc_examples(task, cache_dir), direct_prompt=direct_fewshot(task, cache_dir),
                   cot_prompt=cot_fewshot(task, cache_dir))


def _engine_prompt_files() -> list[Path]:
    """The engine's prompt text (a module today; a package with data files would be hashed whole)."""
    path = Path(engine_prompts.__file__)
    if path.name != "__init__.py":
        return [path]
    return sorted(p for p in path.parent.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def prompt_version(task: str, cache_dir: str | Path | None = None) -> str:
    """A short hash of every prompt text the benchmark shows the model for ``task``: its BBH few-shot texts, its
    Chain of Code programs and the engine's own prompt source. Results are only reused under the same version."""
    h = hashlib.sha256()
    for path in _engine_prompt_files():
        h.update(path.read_bytes())
    fs = fewshot(task, cache_dir)
    for part in (task, fs.direct_prompt, fs.cot_prompt, *(q + "\0" + p for q, p in fs.coc_examples)):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]
