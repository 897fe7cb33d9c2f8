"""The request/reply pair the engine uses to ask for a simulated value, wherever the LMulator runs.

The engine only depends on the `LMulatorProtocol` protocol: `coc_ros.engine.lmulator.LMulator` answers in-process,
the ROS adapter answers through the lmulator node's Simulate service.
"""
from __future__ import annotations

import dataclasses
from typing import Protocol


@dataclasses.dataclass
class SimRequest:
    run_id: str
    question: str
    program: str
    line: int
    source: str  # the source line being executed
    kind: str  # "call": value of `expression`; "line": dict of changed variables; "program": final variables
    expression: str  # for "call": the call with evaluated arguments, e.g. "is_fruit('apple')"
    state: dict[str, str]  # relevant variables as name -> repr (truncated)


@dataclasses.dataclass
class SimReply:
    value: str  # a Python literal (validated with ast.literal_eval by the LMulator)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw: str = ""  # the model's raw reply, for the trace
    attempts: int = 1
    prompt_id: str = ""  # short content hashes that tie a trace event to the exact prompt and reply
    reply_id: str = ""


class LMulatorProtocol(Protocol):
    def simulate(self, request: SimRequest) -> SimReply:
        """Predict the value; raise coc_ros.core.types.SimulationError when no usable value comes back."""
