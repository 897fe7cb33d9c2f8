"""Helpers for the ROS integration tests: node processes on a private DDS domain (coc_ros.launcher), the CLI's
action client with background goals, calls over the product's service-call layer, bag reading.

Not a test module itself (test_ros_*.py import it). Every wait is a condition with a timeout. When a test of a
module failed, its node logs are copied to runs/test_logs/<module>-<time>/ (git-ignored) before the temporary
directory goes.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from collections.abc import Callable

import pytest

from coc_ros.launcher import DomainLease, NodeLauncher, ros_env
from coc_ros.ros.bag import read_trace

REPO = Path(__file__).resolve().parents[1]
DISCOVERY_S = 20.0
KEPT_LOGS = REPO / "runs" / "test_logs"
# coc_server parameters every test module uses: a lost call must fail within seconds, not after 600 s; and the
# scripted LLMs hold exactly one program's replies, so no re-prompting (repair, intent check) asks for more
SERVER_PARAMS = {"service_wait_s": 10.0, "lm_timeout_s": 20.0, "skill_timeout_s": 30.0, "max_seconds": 60.0,
                 "techniques": json.dumps({"repair": False, "intent_check": False})}


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
    """coc_ros nodes as separate processes on a leased test domain, each start with its own params file and log."""

    def __init__(self, tmp: Path, request: pytest.FixtureRequest):
        self.tmp = tmp
        self.lease = DomainLease("test")
        self.domain = self.lease.domain
        self.env = ros_env(self.domain, tmp / "ros_log")
        self.launcher = NodeLauncher(self.env, log_dir=tmp)
        self._session = request.session
        self._scripts = 0
        self._approvers = 0
        self._failed_before = request.session.testsfailed
        self._module = request.node.name.rsplit("/", 1)[-1].removesuffix(".py")

    def start(self, name: str, params: dict[str, Any]) -> Any:
        return self.launcher.start(name, params=params)

    def log(self, name: str) -> str:
        return self.launcher.log_tail(name)

    def stop(self, name: str, sig: int = signal.SIGINT) -> int | None:
        return self.launcher.stop(name, sig)

    def wait_seen_by_server(self, name: str, timeout: float = DISCOVERY_S) -> str:
        """Wait until coc_server logged that it sees the just-started server `name` beating (its HeartbeatMonitor
        line), and return that instance id. A goal sent before that can go out while coc_server still knows only
        the previous instance (seen on CI: a goal 18 ms after a restart got the wrong scripted reply)."""
        instance = wait_until(lambda: re.search(r"instance ([0-9a-f]{12})\)", self.log(name)), timeout,
                              f"{name} to start")[1]
        wait_until(lambda: f"instance {instance} is live" in self.launcher.log_tail("coc_server", 10**7), timeout,
                   f"coc_server to see {name} instance {instance}")
        return instance

    def scripted_lmulator(self, client: RosClient, replies: list[str], **params: Any) -> None:
        """(Re)start the lmulator with a fresh scripted LLM holding `replies`, and wait until its service is
        visible here and coc_server sees the new instance beating."""
        from coc_ros.srv import Simulate

        self.stop("lmulator")
        self._scripts += 1
        script = self.tmp / f"script_{self._scripts}.json"
        script.write_text(json.dumps(replies))
        self.start("lmulator", {"llm": f"scripted:{script}", **params})
        client.wait_for_service(Simulate, "/coc/lmulator/simulate")
        self.wait_seen_by_server("lmulator")

    def start_approver(self, *flags: str, interactive: bool = False) -> tuple[subprocess.Popen, Path]:
        """`coc-ros approve` as its own process (with a stdin pipe the test answers through when `interactive`),
        once it says it is serving: the process and its log file."""
        self._approvers += 1
        log = self.tmp / f"approver_{self._approvers}.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen([sys.executable, "-m", "coc_ros.commands.approve", *flags], env=self.env,
                                    stdin=subprocess.PIPE if interactive else None, stdout=fh,
                                    stderr=subprocess.STDOUT)
        wait_until(lambda: "serving /coc/approve_motion" in log.read_text(), 30, "approver start")
        return proc, log

    def check_alive(self) -> None:
        self.launcher.check_alive()

    def close(self) -> dict[str, int | None]:
        """Stop every node; keep the logs when a test of this module failed; free the domain."""
        codes = self.launcher.close()
        self.lease.release()
        if self._session.testsfailed > self._failed_before:
            self.keep_logs()
        return codes

    def keep_logs(self) -> Path:
        dest = KEPT_LOGS / f"{self._module}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        shutil.copytree(self.tmp, dest, ignore=shutil.ignore_patterns("bags"), dirs_exist_ok=True)
        print(f"\n[ros_harness] node logs of {self._module} kept in {dest}", file=sys.stderr)
        return dest


class GoalRun:
    """One goal sent in the background through the CLI's own GoalClient.run_goal (so the tests exercise its lost
    goal-response and lost-result recovery); collects feedback and the result, so a test can cancel or kill things
    mid-goal."""

    def __init__(self, client: RosClient, instruction: str, mode: str = "", max_seconds: float = 0.0):
        from coc_ros.ros.goal_client import GoalTimes

        self.feedback: list[Any] = []
        self.done = threading.Event()
        self.result: Any = None
        self.status: int | None = None
        self.result_time: float | None = None
        self.error: BaseException | None = None
        self.times = GoalTimes()
        self._interrupt = threading.Event()

        def run() -> None:
            try:
                self.status, self.result = client._client.run_goal(
                    instruction, mode=mode, max_seconds=max_seconds, timeout=600.0,
                    on_feedback=self.feedback.append, interrupted=self._interrupt, times=self.times)
                self.result_time = self.times.result
            except BaseException as exc:  # re-raised in wait()
                self.error = exc
            finally:
                self.done.set()

        threading.Thread(target=run, daemon=True, name="goal-run").start()

    def wait(self, timeout: float = 60.0) -> Any:
        if not self.done.wait(timeout):
            raise TimeoutError(f"no result within {timeout:g} s")
        if self.error is not None:
            raise self.error
        return self.result

    def cancel(self) -> float:
        """Cancel once the goal is accepted; the moment of the cancel request, for latency measurements."""
        wait_until(lambda: self.times.accepted is not None, 10, "goal acceptance")
        t = time.monotonic()
        self._interrupt.set()
        return t


class RosClient:
    """The CLI's action client (coc_ros.ros.goal_client.GoalClient) plus what tests need: discovery waits,
    background goals, and service calls through the product's ServiceCaller (heartbeat, lost-call retry)."""

    def __init__(self, procs: NodeProcs):
        os.environ.update(procs.env)  # rclpy reads the domain and discovery range at init
        from coc_ros.ros.goal_client import GoalClient

        self._client = GoalClient("test_client")
        self.node, self.action = self._client.node, self._client.action
        self._callers: dict[str, Any] = {}

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

    def call(self, srv_type: Any, name: str, request: Any, heartbeat: str, timeout: float = 20.0) -> Any:
        """One call through a long-lived ServiceCaller per service (as coc_server makes them)."""
        from coc_ros.ros.heartbeat import HeartbeatMonitor
        from coc_ros.ros.service_call import ServiceCaller

        caller = self._callers.get(name)
        if caller is None:
            beat = self._callers.get(heartbeat) or HeartbeatMonitor(self.node, heartbeat)
            self._callers[heartbeat] = beat
            caller = self._callers[name] = ServiceCaller(self.node, srv_type, name, what=name, heartbeat=beat,
                                                         wait_s=DISCOVERY_S, repeat_safe=True)
        return caller.call(request, timeout_s=timeout)

    def get_world(self) -> dict[str, str]:
        return self._client.get_world(timeout=20.0)

    def send(self, instruction: str, mode: str = "", max_seconds: float = 0.0) -> GoalRun:
        return GoalRun(self, instruction, mode, max_seconds)

    def close(self) -> None:
        self._client.close()


def connect(procs: NodeProcs, services: tuple[tuple[Any, str], ...] = (),
            publishers: tuple[str, ...] = ()) -> RosClient:
    """A RosClient once coc_server's action (and the given services and publishers) are visible and every node is
    alive; on failure the nodes are stopped and the client closed before the error propagates."""
    client = RosClient(procs)
    try:
        client.wait_for_server()
        for srv_type, name in services:
            client.wait_for_service(srv_type, name)
        for topic in publishers:
            client.wait_for_publisher(topic)
        procs.check_alive()
    except Exception:
        procs.close()
        client.close()
        raise
    return client


@contextlib.contextmanager
def spinning_node(tmp: Path, request: pytest.FixtureRequest, name: str,
                  threads: int = 1) -> Iterator[tuple[NodeProcs, Any, Any, Any]]:
    """Node processes on a private domain plus a node in this test process, spun in the background with `threads`
    executor threads: (procs, node, context, executor). Teardown is bounded (it once hung a run, not reproduced)
    and asserts that every node process exited cleanly."""
    import rclpy
    from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor

    procs = NodeProcs(tmp, request)
    os.environ.update(procs.env)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node(name, context=context)
    executor = (MultiThreadedExecutor(num_threads=threads, context=context) if threads > 1
                else SingleThreadedExecutor(context=context))
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        yield procs, node, context, executor
    finally:
        executor.shutdown(timeout_sec=5)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        codes = procs.close()
    assert all(c in (0, None) for c in codes.values()), codes


def read_bag(path: str | Path) -> dict[str, list[Any]]:
    """topic -> deserialized messages, read back with rosbags (definitions come from the bag itself)."""
    from rosbags.highlevel import AnyReader

    out: dict[str, list[Any]] = {}
    with AnyReader([Path(path)]) as reader:
        for conn, _ts, raw in reader.messages():
            out.setdefault(conn.topic, []).append(reader.deserialize(raw, conn.msgtype))
    return out


def trace_from_bag(path: str | Path) -> list[dict[str, Any]]:
    return read_trace(Path(path))[0]


def program_reply(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def write_script(path: Path, replies: list[str]) -> Path:
    path.write_text(json.dumps(replies))
    return path
