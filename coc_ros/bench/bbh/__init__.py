"""BIG-Bench Hard (BBH) rebuilt offline: sources from PyPI, BBH-format items, few-shot prompts, scoring.

Modules, each with one job: :mod:`.tasks` (names, answer kinds, families, algorithmic/NLP split),
:mod:`.sources` (fetching BIG-bench and lm-eval from PyPI into the cache), :mod:`.prompts` (BBH's exemplars for
direct/CoT, our Chain of Code programs for them from ``coc_ros/bench/data/coc_fewshot``), :mod:`.items` (BBH
items from the sources), :mod:`.scoring` (BBH's exact match with the leniencies listed in :data:`DIFFERENCES`),
:mod:`.paper` (the Chain of Code paper's numbers to compare with).
"""
from coc_ros.bench.bbh.items import DIFFERENCES, Item, load_task, pool_size
from coc_ros.bench.bbh.prompts import (
    coc_examples,
    coc_shots,
    cot_fewshot,
    cot_prompt,
    direct_fewshot,
    direct_prompt,
    fewshot,
    fewshot_examples,
    prompt_version,
)
from coc_ros.bench.bbh.scoring import score
from coc_ros.bench.bbh.sources import fetch_sources
from coc_ros.bench.bbh.tasks import ALGORITHMIC, FAMILIES, NLP, QUICK_TASKS, TASKS, answer_kind, family

__all__ = [
    "ALGORITHMIC", "DIFFERENCES", "FAMILIES", "NLP", "QUICK_TASKS", "TASKS", "Item", "answer_kind", "coc_examples",
    "coc_shots", "cot_fewshot", "cot_prompt", "direct_fewshot", "direct_prompt", "family", "fetch_sources",
    "fewshot", "fewshot_examples", "load_task", "pool_size", "prompt_version", "score",
]
