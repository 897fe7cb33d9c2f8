"""The request/reply pair the engine uses to ask for a simulated value, wherever the LMulator runs.

The engine only depends on the `LMulatorProtocol` protocol: `coc_ros.engine.lmulator.LMulator` answers in-process,
the ROS adapter answers through the lmulator node's Simulate service.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol, TypedDict


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
    hints: dict[str, Any] = dataclasses.field(default_factory=dict)  # how the value will be used, see DecisionHints


class DecisionHints(TypedDict, total=False):
    """What the program does with a helper's value, so the LMulator can decide it the way a small model is best at.

    decision: "bool" (used as a truth value), "choice" (compared with string literals), "name" / "names" (passed
    to a robot skill: one of, or a list of, the names that exist), "free" (anything else).
    """

    decision: str
    helper: str  # the helper's name, e.g. "is_vegan"
    args: list[Any]  # its evaluated arguments (JSON values; other objects as repr text)
    options: list[str]  # choice: the literals the program compares with; name(s): the valid names
    peers: list[str]  # bool/choice: other first arguments asked the same question in this run (for centring)
    expect: str  # "str" | "number" | "list" | "dict" | "" : the type the program's use of the value needs
    calibrate: bool  # centre log-odds over the peers (False: raw log-odds)
    describe: bool  # say what each detected object is before deciding about it (False: the bare question)
    grammar: bool  # decode names under a grammar (False: free text)


@dataclasses.dataclass
class SimReply:
    value: str  # a Python literal (validated with ast.literal_eval by the LMulator)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw: str = ""  # the model's raw reply, for the trace
    attempts: int = 1
    prompt_id: str = ""  # short content hashes that tie a trace event to the exact prompt and reply
    reply_id: str = ""
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)  # decision, logodds, raw_logodds, scores


class LMulatorProtocol(Protocol):
    def simulate(self, request: SimRequest) -> SimReply:
        """Predict the value; raise coc_ros.core.types.SimulationError when no usable value comes back."""
