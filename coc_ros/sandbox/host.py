"""The host side of the sandbox: starts a worker process per run, answers its requests, enforces the clock.

Requests (LMulator predictions, robot skills) are served on a helper thread so that a cancel or the wall-clock
limit is noticed within ~50 ms even while a long LM call or motion is in flight; the worker is then killed
(SIGKILL to its process group) and `on_abort` stops any motion.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

import coc_ros
from coc_ros.core.types import Canceled, CocError, LimitExceeded, Limits
from coc_ros.sandbox.isolation import worker_environment

POLL_S = 0.05
# What one run may send the host: a worker that floods events (thousands of variables changing per statement, or
# a compromised worker) ends with a limit error instead of growing the host's memory without bound.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_RUN_BYTES = 16 * 1024 * 1024
EVENTS_PER_STATEMENT = 2  # a statement reports once; a for loop also reports its iterator


class WorkerFailed(CocError):
    """The worker reported a failure; `kind` is the worker's error kind."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class SandboxRun:
    """One program in one worker process."""

    def __init__(self, *, limits: Limits, simulate: Callable[[dict[str, Any]], dict[str, Any]],
                 robot: Callable[[str, list[Any], dict[str, Any]], Any] | None,
                 on_event: Callable[[dict[str, Any]], None], cancel: threading.Event | None = None,
                 on_abort: Callable[[], None] | None = None, deadline: float | None = None):
        self.limits = limits
        self._simulate = simulate
        self._robot = robot
        self._on_event = on_event
        self._cancel = cancel or threading.Event()
        self._on_abort = on_abort
        self._deadline = deadline if deadline is not None else time.monotonic() + limits.timeout_s
        self._buffer = b""
        self._received = 0
        self._events = 0
        self._simulations = 0
        self._max_events = EVENTS_PER_STATEMENT * limits.max_statements + 100
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="coc-sandbox-req")

    def run(self, program: str, mode: str, robot_functions: list[str]) -> dict[str, Any]:
        """Run the program; return the worker's `done` message or raise a CocError."""
        # The worker imports the same coc_ros as this process (a checkout, a worktree or a colcon install), and
        # sees none of this process's environment (API keys).
        package_root = str(Path(coc_ros.__file__).resolve().parents[1])
        env = worker_environment(os.pathsep.join([package_root] + [p for p in sys.path if p]))
        with tempfile.TemporaryFile() as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-s", "-m", "coc_ros.sandbox.worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=stderr, env=env, start_new_session=True, close_fds=True,
                cwd=tempfile.gettempdir(),
            )
            try:
                self._send(proc, {"program": program, "mode": mode, "robot_functions": robot_functions,
                                  "limits": self.limits.__dict__})
                return self._serve(proc, stderr)
            finally:
                self._kill(proc)
                self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------------------------------------ internals
    def _serve(self, proc: subprocess.Popen, stderr: Any) -> dict[str, Any]:
        while True:
            message = self._next_message(proc, stderr)
            self._check_abort()  # also between messages that arrive back to back
            kind = message.get("type")
            if kind == "event":
                self._events += 1
                if self._events > self._max_events:
                    raise LimitExceeded(f"trace limit exceeded: more than {self._max_events} events in one run")
                self._on_event(message)
            elif kind == "simulate":
                reply = self._call(lambda: self._simulate(message))
                if reply.get("model", True):  # answered by the model (not from memo or the camera)
                    self._simulations += 1  # the worker counts too; this holds even if the worker does not
                    if self._simulations > self.limits.max_lm_calls:
                        raise LimitExceeded(f"LM call budget exceeded: more than {self.limits.max_lm_calls} "
                                            "LMulator calls")
                self._reply(proc, reply)
            elif kind == "robot":
                self._reply(proc, self._call(lambda: self._robot_call(message)))
            elif kind == "done":
                return message
            elif kind == "failed":
                raise WorkerFailed(message.get("error_kind", "error"), message.get("error", "unknown error"))
            else:
                raise CocError(f"sandbox protocol error: unexpected message {kind!r}")

    def _robot_call(self, message: dict[str, Any]) -> dict[str, Any]:
        if self._robot is None:
            return {"fatal": f"robot skill {message.get('name')!r} called but no robot is connected"}
        return {"result": self._robot(message["name"], message.get("args", []), message.get("kwargs", {}))}

    def _call(self, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run a request on the helper thread while watching cancel and the clock."""
        future = self._pool.submit(fn)
        while True:
            self._check_abort()
            try:
                return future.result(timeout=POLL_S)
            except concurrent.futures.TimeoutError:
                continue
            except CocError as exc:
                if isinstance(exc, (Canceled, LimitExceeded)):
                    raise
                return {"error": str(exc)}
            except Exception as exc:
                return {"error": str(exc)}

    def _check_abort(self) -> None:
        if self._cancel.is_set():
            self._abort()
            raise Canceled("canceled")
        if time.monotonic() > self._deadline:
            self._abort()
            raise LimitExceeded(f"timeout: the run exceeded its wall-clock limit of {self.limits.timeout_s:g} s")

    def _abort(self) -> None:
        if self._on_abort is not None:
            try:
                self._on_abort()
            except Exception:
                pass

    def _next_message(self, proc: subprocess.Popen, stderr: Any) -> dict[str, Any]:
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            self._check_abort()
            ready, _, _ = select.select([fd], [], [], POLL_S)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise self._died(proc, stderr)
            self._buffer += chunk
            self._received += len(chunk)
            if self._received > MAX_RUN_BYTES:
                raise LimitExceeded(f"trace limit exceeded: the run sent more than {MAX_RUN_BYTES >> 20} MiB of "
                                    "events and state")
            if b"\n" not in self._buffer and len(self._buffer) > MAX_MESSAGE_BYTES:
                raise LimitExceeded(f"trace limit exceeded: one event was larger than {MAX_MESSAGE_BYTES >> 10} KiB")
        line, self._buffer = self._buffer.split(b"\n", 1)
        if len(line) > MAX_MESSAGE_BYTES:
            raise LimitExceeded(f"trace limit exceeded: one event was larger than {MAX_MESSAGE_BYTES >> 10} KiB")
        try:
            message = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:  # deep nesting is a worker's error, not the host's
            raise CocError(f"sandbox protocol error: {exc}") from None
        if not isinstance(message, dict):
            raise CocError(f"sandbox protocol error: expected a JSON object, got {type(message).__name__}")
        return message

    def _died(self, proc: subprocess.Popen, stderr: Any) -> CocError:
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        stderr.seek(0)
        tail = stderr.read()[-500:].decode(errors="replace").strip()
        if code == -signal.SIGXCPU:
            return LimitExceeded("CPU time limit exceeded")
        if code is not None and code < 0:
            return CocError(f"sandbox worker was killed by signal {signal.Signals(-code).name}. {tail}".strip())
        return CocError(f"sandbox worker exited unexpectedly (code {code}). {tail}".strip())

    def _send(self, proc: subprocess.Popen, message: dict[str, Any]) -> None:
        proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()

    def _reply(self, proc: subprocess.Popen, message: dict[str, Any]) -> None:
        try:
            self._send(proc, message)
        except BrokenPipeError:
            pass  # the worker died; _next_message reports why

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
