"""The sandbox worker process: receives one program, runs it with the interpreter, streams events back.

Protocol: newline-delimited JSON on stdin/stdout. The worker sends {"type": "event"|"simulate"|"robot"|"done"}
messages; for simulate/robot it blocks until the host answers with {"value"|"result"|"error": ...}. Anything the
program prints is captured by the interpreter, never written to the protocol stream.
"""
from __future__ import annotations

import io
import json
import os
import resource
import signal
import sys
import time
from typing import Any, TextIO

from coc_ros.sandbox.interpreter import Interpreter, RobotError, safe_repr
from coc_ros.core.program import parse_program
from coc_ros.core.types import Abort, CocError, LimitExceeded, Limits, Mode, ProgramError, SimulationError
from coc_ros.sandbox import isolation, policy

MAX_FINAL_STATE_ENTRIES = 200


class PipeHost:
    """The interpreter's Host, implemented as requests to the parent process."""

    def __init__(self, out: TextIO, inp: TextIO):
        self._out = out
        self._in = inp

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message, default=safe_repr) + "\n")
        self._out.flush()

    def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        line = self._in.readline()
        if not line:
            raise Abort(CocError("host closed the connection"))
        return json.loads(line)

    def simulate(self, kind: str, line: int, source: str, expression: str, state: dict[str, str],
                 hints: dict[str, Any]) -> dict[str, Any]:
        reply = self._request({"type": "simulate", "kind": kind, "line": line, "source": source,
                               "expression": expression, "state": state, "hints": hints})
        if "error" in reply:
            raise Abort(SimulationError(reply["error"]))
        return reply

    def robot(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        reply = self._request({"type": "robot", "name": name, "args": args, "kwargs": kwargs})
        if "fatal" in reply:
            raise Abort(ProgramError(reply["fatal"]))
        if "error" in reply:
            raise RobotError(reply["error"])
        return reply.get("result")

    def event(self, event: dict[str, Any]) -> None:
        self.send({"type": "event", **event})


def apply_limits(limits: Limits, highest_fd: int) -> None:
    """Resource limits for the rest of this process's life: memory, CPU, no files, no new processes."""
    mem = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = int(limits.timeout_s) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest_fd + 1, highest_fd + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def confine(limits: Limits) -> list[isolation.Layer]:
    """Everything but the Python policy that must hold before generated code runs: load every module the program
    may use (nothing can be read afterwards), the operating-system layer, then the resource limits. Returns the
    layers of the operating-system confinement and whether each took effect."""
    policy.preload_allowed_modules()
    time.localtime()  # the C library reads /etc/localtime once, now: afterwards local time would silently be UTC
    highest_fd = max(int(fd) for fd in os.listdir("/proc/self/fd"))  # /proc is unreadable once confined
    layers = isolation.confine(isolation.read_only_paths())
    apply_limits(limits, highest_fd)
    return layers


def run(request: dict[str, Any], host: PipeHost) -> dict[str, Any]:
    limits = Limits.from_dict(request.get("limits"))
    mode = Mode.parse(request.get("mode"))
    parsed = parse_program(request["program"])
    policy.check_program(parsed.tree)
    interp = Interpreter(parsed, host, mode=mode, limits=limits,
                         robot_functions=frozenset(request.get("robot_functions", [])))
    layers = confine(limits)
    policy.install_audit_hook(policy.ALLOWED_MODULES)
    missing = isolation.missing(layers)
    if missing:  # never silent: the trace says which wall is not there
        host.event({"kind": "sandbox", "executor": "system", "line": 0, "state_delta": {}, "duration": 0.0,
                    "source": "sandbox layer(s) missing: " + ", ".join(layer.name for layer in missing),
                    "detail": {"isolation": [layer.to_dict() for layer in layers]}})
    try:
        interp.run()
    except Abort:
        raise
    except RobotError as exc:
        raise Abort(ProgramError(f"line {interp.error_line}: robot error: {exc}")) from None
    except RecursionError:
        raise Abort(ProgramError(f"line {interp.error_line}: RecursionError: maximum recursion depth exceeded")) \
            from None
    except MemoryError:  # RLIMIT_AS: a resource limit, not a bug to show as a program error
        raise Abort(LimitExceeded(f"line {interp.error_line}: memory limit exceeded (memory_mb="
                                  f"{limits.memory_mb})")) from None
    except Exception as exc:  # a real error in the program: reported, never simulated
        raise Abort(ProgramError(f"line {interp.error_line}: {type(exc).__name__}: {exc}")) from None
    state = interp.user_state()
    answer = state.get("answer")
    try:
        answer_json: Any = json.loads(json.dumps(answer))
    except (TypeError, ValueError):
        answer_json = safe_repr(answer, 2000)
    return {"answer": answer_json, "answer_repr": safe_repr(answer, 2000), "has_answer": "answer" in state,
            "final_state": _bounded_state(state), "steps": interp.steps,
            "isolation": [layer.to_dict() for layer in layers]}


def _bounded_state(state: dict[str, Any]) -> dict[str, str]:
    """The final variables for the result, `answer` first; a program with thousands of variables shows the first
    MAX_FINAL_STATE_ENTRIES and says how many more there are (the host bounds each message)."""
    names = sorted(state, key=lambda k: k != "answer")
    shown = {k: safe_repr(state[k]) for k in names[:MAX_FINAL_STATE_ENTRIES]}
    if len(names) > MAX_FINAL_STATE_ENTRIES:
        shown["..."] = f"<{len(names) - MAX_FINAL_STATE_ENTRIES} more variables not shown>"
    return shown


def main() -> None:
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray writes to fd 1 must not corrupt the protocol
    sys.stdout = io.StringIO()
    host = PipeHost(protocol_out, sys.stdin)
    line = sys.stdin.readline()
    if not line:
        return
    try:
        result = run(json.loads(line), host)
        host.send({"type": "done", **result})
    except Abort as abort:
        err = abort.error
        host.send({"type": "failed", "error_kind": err.kind, "error": str(err)})
    except CocError as err:
        host.send({"type": "failed", "error_kind": err.kind, "error": str(err)})
    except SyntaxError as err:
        host.send({"type": "failed", "error_kind": "syntax", "error": f"program does not parse: {err}"})
    except MemoryError:
        host.send({"type": "failed", "error_kind": "limit", "error": "memory limit exceeded"})
    except RecursionError:
        host.send({"type": "failed", "error_kind": "program", "error": "maximum recursion depth exceeded"})


if __name__ == "__main__":
    main()
