"""Switches for the techniques that make a small model usable for robot goals, one per measured ablation.

All but `rerank` and `redraw` are on by default; the robot benchmark turns one off at a time (`coc-interweave -X`),
or an opt-in one on (`coc-interweave +rerank`, `coc-interweave +redraw`), so each technique's contribution is a
number.
"""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Techniques:
    calibrate: bool = True  # truth-valued helpers decided from calibrated True/False log-odds, not free text
    gap_threshold: bool = True  # a yes-biased scene is split at the widest gap in the model's beliefs, not their mean
    describe: bool = True  # the model says what each detected object is before it decides anything about it
    both_prompts: bool = True  # a yes/no is the mean log-odds with and without that description in front
    grammar: bool = True  # helpers whose value must be a known name are decoded under a grammar of those names
    repair: bool = True  # grounding of robot arguments + re-prompting the program writer on a robot error
    intent_check: bool = True  # a goal that asks the robot to act but made no motion is re-prompted, then failed
    memoize: bool = True  # the same pure helper call with the same arguments is answered once per run
    kind_shots: bool = True  # an instruction of a known kind (how many) gets the program writer shots of its kind
    translate: bool = True  # an instruction in another language reaches the program writer with its English beside it
    # Opt-in (off by default): two more programs are drawn and the one that best explains the instruction is run.
    # Measured on the dev split, seed 0, with the 1.5B model: 16/36 against 17/36 without it, at 2.1x the time.
    rerank: bool = False
    # Opt-in: a goal whose re-prompted program also moved nothing gets one fresh program, sampled from the writer's
    # first prompt. Measured on 9 seen tasks that had ended in the intent error (seed 0): reached in 8, gained none,
    # and in 3 the drawn program moved objects the instruction did not ask for, where the goal had failed cleanly.
    redraw: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Techniques:
        """From a config mapping; unknown keys are an error so a typo never silently keeps a technique on."""
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown technique(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        for key, value in data.items():
            if not isinstance(value, bool):
                raise ValueError(f"technique {key} must be true or false, got {value!r}")
        return cls(**data)

    def without(self, name: str) -> Techniques:
        """A copy with one technique off (for ablations)."""
        if name not in {f.name for f in dataclasses.fields(self)}:
            raise ValueError(f"unknown technique {name!r}")
        return dataclasses.replace(self, **{name: False})
