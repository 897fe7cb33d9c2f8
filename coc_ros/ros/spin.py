"""Spinning a node executable until Ctrl-C / SIGTERM / shutdown, the way ros2/examples' main() does, plus what
every coc node needs on top: a node that cannot start says why and exits non-zero, and `close()` is called."""
from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

import rclpy
from rclpy.executors import Executor, ExternalShutdownException
from rclpy.node import Node


def spin(make_node: Callable[[], Node], executor: Executor, name: str) -> int:
    """Build the node (rclpy must be initialised), spin it on `executor`, clean up; returns the exit code."""
    node: Node | None = None
    code = 0
    try:
        node = make_node()
        executor.add_node(node)
        executor.spin()
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
            node.destroy_node()
        executor.shutdown()
        rclpy.try_shutdown()
    return code
