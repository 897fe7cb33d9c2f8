"""Spinning a node executable until Ctrl-C / SIGTERM / shutdown, the way ros2/examples' main() does, plus what
every coc node needs on top: a node that cannot start says why and exits non-zero, and `close()` is called."""
from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator

import rclpy
from rclpy.executors import Executor, ExternalShutdownException
from rclpy.node import Node

RCLPY_CLEANUP_S = 5.0  # well inside bringup's default 10 s grace before SIGKILL
SPIN_RECHECK_S = 0.5


def spin(make_node: Callable[[], Node], executor: Executor, name: str) -> int:
    """Build the node (rclpy must be initialised), spin it on `executor`, clean up; returns the exit code."""
    node: Node | None = None
    code = 0
    # `kill -USR1 <pid>` prints every thread's stack to stderr (bringup does so before it kills a stuck node)
    faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    try:
        node = make_node()
        executor.add_node(node)
        # `executor.spin()` waits without a timeout; should the wake-up that follows a SIGINT be missed (the signal's
        # guard condition seen while the context is still ok), it would wait forever. A bounded wait re-checks the
        # context at least every SPIN_RECHECK_S.
        while executor.context.ok():
            executor.spin_once(timeout_sec=SPIN_RECHECK_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as exc:
        if node is not None and not executor.context.ok():
            # Ctrl-C/SIGTERM shut the context down while the executor was building its wait set: rclpy then
            # raises RCLError ("the given context is not valid") instead of ExternalShutdownException (seen once
            # on a loaded machine). That is a clean shutdown, not a failure.
            pass
        else:  # a node that cannot start (bad parameter, missing model) exits 1 with the reason
            print(f"[{name}] fatal: {type(exc).__name__}: {exc}", file=sys.stderr)
            if os.environ.get("COC_ROS_DEBUG") or not str(exc):
                traceback.print_exc()
            code = 1
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                close()
        with _rclpy_cleanup_watchdog(name, code):
            if node is not None:
                node.destroy_node()
            executor.shutdown()
            rclpy.try_shutdown()
    return code


@contextlib.contextmanager
def _rclpy_cleanup_watchdog(name: str, code: int) -> Iterator[None]:
    """Once on a loaded CI machine a node given SIGINT after a clean start did not exit within bringup's grace and
    was killed, a failure (where it hung was not recorded). rclpy's own cleanup (destroying the node, joining the
    executor's threads) is one place it can: the node's own resources are released by then (`close()` ran), so if
    that cleanup takes longer than RCLPY_CLEANUP_S this prints every thread's stack (for the log) and exits with
    the code the node had anyway."""
    done = threading.Event()

    def watch() -> None:
        if not done.wait(RCLPY_CLEANUP_S):
            print(f"[{name}] rclpy cleanup still running after {RCLPY_CLEANUP_S:g} s; threads' stacks follow, "
                  f"exiting with code {code} without it", file=sys.stderr, flush=True)
            faulthandler.dump_traceback(file=sys.__stderr__, all_threads=True)
            os._exit(code)

    threading.Thread(target=watch, name="rclpy-cleanup-watchdog", daemon=True).start()
    try:
        yield
    finally:
        done.set()
