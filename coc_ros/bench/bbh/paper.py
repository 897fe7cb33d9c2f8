"""The Chain of Code paper's BIG-Bench Hard numbers (arXiv 2312.04474, text-davinci-003, single-task few-shot), to
print beside ours. Only numbers read from the paper belong here; a missing one stays missing.
"""
from __future__ import annotations

# Section 4 / Figure: averages over the 23 BBH tasks. "coc-python" is the paper's "CoC (Python)" ablation and
# "coc-lm" its "CoC (LM)" ablation ("LM state" in its ablation table: 63).
OVERALL: dict[str, float] = {"direct": 55, "cot": 72, "coc-interweave": 84, "coc-python": 48, "coc-lm": 63}
ALGORITHMIC: dict[str, float] = {"direct": 41, "cot": 71, "coc-interweave": 95}
NLP: dict[str, float] = {"direct": 67, "cot": 74, "coc-interweave": 74}
HUMAN_AVERAGE = 68

# TODO(lead): per-task Direct / CoT / CoC (Interweave) numbers of the paper's Table A1 (text-davinci-003), keyed by
# BBH family name, e.g. "boolean_expressions": {"direct": ..., "cot": ..., "coc-interweave": ...}. They could not
# be found from this machine (no internet; the paper's appendix table was not in the searchable text), and they
# must not be guessed: until filled in, the per-task paper columns print "?".
PER_TASK: dict[str, dict[str, float]] = {}
