"""Helpers for the ROS integration tests: node processes on a private DDS domain, an action client, bag reading.

Not a test module itself (test_ros_*.py import it). Every wait is a condition with a timeout.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parents[1]
DISCOVERY_S = 20.0


def ros_env(domain_id: int, log_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ROS_DOMAIN_ID=str(domain_id), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", ROS_LOG_DIR=str(log_dir),
               PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
    env.pop("ROS_LOCALHOST_ONLY", None)
    return env


def pick_domain_id() -> int:
    """A domain unlikely to be used by a parallel test run on this machine (0..101 are the portable ones)."""
    return random.Random(os.getpid() * 7919 + time.time_ns()).randrange(20, 100)


def wait_until(cond: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class NodeProcs:
    """Starts coc_ros node executables as separate processes, each with its own params file and log."""

    def __init__(self, tmp: Path, domain_id: int):
        self.tmp = tmp
        self.env = ros_env(domain_id, tmp / "ros_log")
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.starts: dict[str, int] = {}

    def start(self, name: str, params: dict[str, Any]) -> subprocess.Popen:
        n = self.starts[name] = self.starts.get(name, 0) + 1
        pfile = self.tmp / f"{name}_{n}.yaml"
        pfile.write_text(yaml.safe_dump({name: {"ros__parameters": params}}))
        log = self.tmp / f"{name}_{n}.log"
        self.logs[name] = log
        with open(log, "wb") as fh:
            proc = subprocess.Popen([sys.executable, "-m", f"coc_ros.nodes.{name}", "--ros-args",
                                     "--params-file", str(pfile)], cwd=REPO, env=self.env, stdout=fh,
                                    stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        p = self.logs.get(name)
        return p.read_text(errors="replace")[-4000:] if p and p.exists() else ""

    def stop(self, name: str, sig: int = signal.SIGINT, timeout: float = 10.0) -> int | None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return proc.returncode

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"node {name} exited with {proc.returncode}:\n{self.log(name)}")

    def close(self) -> dict[str, int | None]:
        return {name: self.stop(name) for name in list(self.procs)}


class GoalRun:
    """One goal sent through a real ActionClient; collects feedback and the result."""

    def __init__(self, client: "RosClient", instruction: str, mode: str = "", max_seconds: float = 0.0):
        from coc_ros.action import ExecuteInstruction

        self.feedback: list[Any] = []
        self.accepted = threading.Event()
        self.done = threading.Event()
        self.goal_handle: Any = None
        self.result: Any = None
        self.status: int | None = None
        self.result_time: float | None = None
        goal = ExecuteInstruction.Goal(instruction=instruction, mode=mode, max_seconds=float(max_seconds))
        fut = client.action.send_goal_async(goal, feedback_callback=lambda fb: self.feedback.append(fb.feedback))
        fut.add_done_callback(self._on_goal)

    def _on_goal(self, fut: Any) -> None:
        self.goal_handle = fut.result()
        self.accepted.set()
        if self.goal_handle.accepted:
            self.goal_handle.get_result_async().add_done_callback(self._on_result)
        else:
            self.done.set()

    def _on_result(self, fut: Any) -> None:
        res = fut.result()
        self.result, self.status, self.result_time = res.result, res.status, time.monotonic()
        self.done.set()

    def wait(self, timeout: float = 60.0) -> Any:
        if not self.done.wait(timeout):
            raise TimeoutError(f"no result within {timeout:g} s")
        return self.result

    def cancel(self) -> float:
        wait_until(self.accepted.is_set, 10, "goal acceptance")
        t = time.monotonic()
        self.goal_handle.cancel_goal_async()
        return t


def _coc_client_class() -> type:
    from coc_ros.nodes.client import CocClient

    return CocClient


class RosClient:
    """The CLI's action client (coc_ros.nodes.client.CocClient) plus what tests need: discovery waits and goals
    that run in the background (GoalRun) so a test can cancel or kill things mid-goal."""

    def __init__(self, domain_id: int, log_dir: Path):
        os.environ.update(ros_env(domain_id, log_dir))
        self._client = _coc_client_class()("test_client")
        self.node, self.action = self._client.node, self._client.action

    def wait_for_service(self, srv_type: Any, name: str, timeout: float = DISCOVERY_S) -> None:
        client = self.node.create_client(srv_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                raise TimeoutError(f"service {name} not available within {timeout:g} s")
        finally:
            self.node.destroy_client(client)

    def wait_for_publisher(self, topic: str, timeout: float = DISCOVERY_S) -> None:
        wait_until(lambda: self.node.count_publishers(topic) > 0, timeout, f"a publisher on {topic}")

    def wait_for_server(self, timeout: float = DISCOVERY_S) -> None:
        if not self._client.wait_for_server(timeout):
            raise TimeoutError(f"action server /coc/execute not available within {timeout:g} s")

    def send(self, instruction: str, mode: str = "", max_seconds: float = 0.0) -> GoalRun:
        return GoalRun(self, instruction, mode, max_seconds)

    def close(self) -> None:
        self._client.close()


def read_bag(path: str | Path) -> dict[str, list[Any]]:
    """topic -> deserialized messages, read back with rosbags (definitions come from the bag itself)."""
    from rosbags.highlevel import AnyReader

    out: dict[str, list[Any]] = {}
    with AnyReader([Path(path)]) as reader:
        for conn, _ts, raw in reader.messages():
            out.setdefault(conn.topic, []).append(reader.deserialize(raw, conn.msgtype))
    return out


def trace_from_bag(path: str | Path) -> list[dict[str, Any]]:
    return [{"kind": m.kind, "executor": m.executor, "line": m.line, "source": m.source, "run_id": m.run_id,
             "detail": json.loads(m.detail_json or "{}")} for m in read_bag(path).get("/coc/trace", [])]


def program_reply(code: str) -> str:
    return f"```python\n{code.strip()}\n```"
