"""Plain data types shared by the engine, the sandbox worker, the ROS adapters and the benchmarks.

Everything here is JSON-serialisable so that events can cross the sandbox process boundary, become ROS
messages and land in bags without conversion code at every hop.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import time
from typing import Any


class Mode(str, enum.Enum):
    """How a question is answered (the paper's ablations, all with the same model)."""

    DIRECT = "direct"  # answer directly
    COT = "cot"  # chain of thought in prose
    COC_PYTHON = "coc-python"  # write code, run it with Python only (undefined helpers are errors)
    COC_LM = "coc-lm"  # write code, the LM simulates the whole program
    COC_INTERWEAVE = "coc-interweave"  # write code, Python runs what it can, the LM simulates the rest

    @classmethod
    def parse(cls, value: str | Mode | None) -> Mode:
        """Parse a mode name with an error that lists the valid ones."""
        if isinstance(value, Mode):
            return value
        if not value:
            return cls.COC_INTERWEAVE
        try:
            return cls(value.strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown mode {value!r}; expected one of: {valid}") from None

    @property
    def writes_code(self) -> bool:
        return self in (Mode.COC_PYTHON, Mode.COC_LM, Mode.COC_INTERWEAVE)


class CocError(Exception):
    """A run failed for a reason the user should see (the message is shown as is)."""

    kind = "error"


class LimitExceeded(CocError):
    """A statement budget, wall-clock, memory or LM-call limit was hit."""

    kind = "limit"


class SimulationError(CocError):
    """The LMulator could not produce a usable value (malformed replies, LM unreachable)."""

    kind = "simulation"


class ProgramError(CocError):
    """The generated program raised a real exception (a bug, a robot API error): never simulated."""

    kind = "program"


class SandboxViolation(CocError):
    """The generated program tried something the sandbox forbids (imports, files, dunders, ...)."""

    kind = "sandbox"


class Canceled(CocError):
    """The caller canceled the run."""

    kind = "canceled"


class Abort(BaseException):
    """Carries a CocError through generated code: a BaseException, so `except Exception:` cannot swallow it.

    A context manager's `__exit__` can still swallow any exception, so the first Abort of a run is also kept
    (`pending_abort`): the interpreter raises it again before the next statement and at the end, and a swallowed
    sandbox violation or limit still ends the run (found by red-teaming: `with` over a class whose `__exit__`
    returns True)."""

    def __init__(self, error: CocError):
        super().__init__(str(error))
        self.error = error
        if not _FIRST_ABORT:
            _FIRST_ABORT.append(self)


_FIRST_ABORT: list[Abort] = []  # the first Abort raised in this run (a worker process runs one program)


def pending_abort() -> Abort | None:
    """The first Abort raised in the current run, swallowed or not."""
    return _FIRST_ABORT[0] if _FIRST_ABORT else None


def clear_aborts() -> None:
    """Start of a run: nothing has been aborted yet."""
    _FIRST_ABORT.clear()


@dataclasses.dataclass
class Limits:
    """Per-run limits; exceeding any of them ends the run with a LimitExceeded error, never a hang."""

    max_statements: int = 10_000
    timeout_s: float = 120.0
    max_lm_calls: int = 64
    memory_mb: int = 1024
    max_output_chars: int = 20_000
    max_program_chars: int = 20_000
    max_question_chars: int = 8_000

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Limits:
        if data is not None and not isinstance(data, dict):
            raise ValueError(f"limits must be a mapping of name: value, got {type(data).__name__}")
        data = dict(data or {})
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        limits = cls(**data)
        for f in dataclasses.fields(cls):
            value = getattr(limits, f.name)
            if f.name == "timeout_s":
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")
                what = "a positive number of seconds"
            else:
                ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
                what = "a positive integer"
            if not ok:
                raise ValueError(f"limit {f.name} must be {what}, got {value!r}")
        return limits


@dataclasses.dataclass
class TraceEvent:
    """One step of a run. `executor` says who produced the effect: python, lm, robot or system."""

    run_id: str
    step: int
    kind: str  # run_start | program | line | lm_call | robot_call | print | error | run_end
    executor: str  # python | lm | robot | system
    line: int = 0
    source: str = ""
    state_delta: dict[str, str] = dataclasses.field(default_factory=dict)
    duration: float = 0.0
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    stamp: float = dataclasses.field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TraceEvent:
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)


@dataclasses.dataclass
class RunResult:
    """What a run produced. `error` is empty on success."""

    run_id: str
    question: str
    mode: str
    success: bool
    answer: Any = None
    program: str = ""
    completion: str = ""
    error: str = ""
    error_kind: str = ""
    trace: list[TraceEvent] = dataclasses.field(default_factory=list)
    lm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    final_state: dict[str, str] = dataclasses.field(default_factory=dict)
    output: str = ""
    missing_layers: list[str] = dataclasses.field(default_factory=list)  # sandbox walls this kernel lacked

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["trace"] = [e.to_dict() for e in self.trace]
        return d
