"""coc_ros.ros.spin: a node's exit code says whether it failed, not how a shutdown raced the executor."""
from __future__ import annotations

import subprocess
import sys

import rclpy
from rclpy.executors import SingleThreadedExecutor

from coc_ros.ros.spin import spin


class RaisingExecutor(SingleThreadedExecutor):
    """spin_once() raises what rclpy raises when the context dies while a wait set is being built, optionally after
    shutting the context down first (the SIGINT race)."""

    def __init__(self, context: rclpy.Context, shut_down_first: bool):
        super().__init__(context=context)
        self.shut_down_first = shut_down_first

    def spin_once(self, timeout_sec: float | None = None) -> None:
        if self.shut_down_first:
            rclpy.shutdown(context=self.context)
        raise RuntimeError("failed to initialize wait set: the given context is not valid")


def _run(shut_down_first: bool) -> tuple[int, list[str]]:
    context = rclpy.Context()
    rclpy.init(context=context)
    closed: list[str] = []

    def make_node():
        node = rclpy.create_node("spin_test", context=context)
        node.close = lambda: closed.append("closed")
        return node

    return spin(make_node, RaisingExecutor(context, shut_down_first), "spin_test"), closed


def test_an_error_after_shutdown_is_a_clean_exit():
    code, closed = _run(shut_down_first=True)
    assert code == 0 and closed == ["closed"]


def test_an_error_while_running_is_a_failure(capsys):
    code, closed = _run(shut_down_first=False)
    assert code == 1 and closed == ["closed"]
    assert "fatal: RuntimeError: failed to initialize wait set" in capsys.readouterr().err


def test_a_hung_rclpy_cleanup_ends_with_the_nodes_code_and_the_stacks():
    """The watchdog in a real process: a cleanup that never returns is cut short with the node's exit code,
    after the threads' stacks went to stderr."""
    body = ("import time, coc_ros.ros.spin as s\n"
            "s.RCLPY_CLEANUP_S = 0.3\n"
            "with s._rclpy_cleanup_watchdog('hung_node', 0):\n"
            "    time.sleep(60)\n"
            "raise SystemExit(3)\n")
    proc = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "[hung_node] rclpy cleanup still running after 0.3 s" in proc.stderr
    assert 'File "<string>", line 4' in proc.stderr  # the main thread's stack names where it hung


def test_a_finished_cleanup_leaves_the_process_alone():
    body = ("import time, coc_ros.ros.spin as s\n"
            "s.RCLPY_CLEANUP_S = 0.3\n"
            "with s._rclpy_cleanup_watchdog('quick_node', 0):\n"
            "    pass\n"
            "time.sleep(0.6)\n"
            "raise SystemExit(3)\n")
    proc = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3 and "still running" not in proc.stderr
