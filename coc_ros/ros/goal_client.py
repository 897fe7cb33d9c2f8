"""A small rclpy client for the CLI (send-goal, demo): action goals with feedback, GetWorld calls.

The node spins in a background thread; callers wait on Events with timeouts.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

from coc_ros.nodes import common


class GoalFailed(Exception):
    pass


class CocClient:
    def __init__(self, name: str = "coc_cli") -> None:
        import os  # noqa: PLC0415

        import rclpy  # noqa: PLC0415
        from rclpy.action import ActionClient  # noqa: PLC0415
        from rclpy.executors import SingleThreadedExecutor  # noqa: PLC0415

        from coc_ros.action import ExecuteInstruction  # noqa: PLC0415
        from coc_ros.srv import GetWorld  # noqa: PLC0415

        self._types = (ExecuteInstruction, GetWorld)
        self.context = rclpy.Context()
        rclpy.init(context=self.context, signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
        self.node = rclpy.create_node(f"{name}_{os.getpid()}", context=self.context)
        self.action = ActionClient(self.node, ExecuteInstruction, common.ACTION)
        self.world = self.node.create_client(GetWorld, common.SKILL_GET_WORLD)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:  # noqa: BLE001 - context shut down
            pass

    def wait_for_server(self, timeout: float) -> bool:
        return self.action.wait_for_server(timeout_sec=timeout)

    def get_world(self, image_path: str = "", timeout: float = 30.0) -> dict[str, str]:
        if not self.world.wait_for_service(timeout_sec=timeout):
            raise GoalFailed(f"service {common.SKILL_GET_WORLD} not available within {timeout:g} s")
        done = threading.Event()
        fut = self.world.call_async(self._types[1].Request(image_path=image_path))
        fut.add_done_callback(lambda _f: done.set())
        if not done.wait(timeout):
            raise GoalFailed("get_world did not answer")
        resp = fut.result()
        if not resp.success:
            raise GoalFailed(f"get_world failed: {resp.error}")
        return json.loads(resp.world_json or "{}")

    def run_goal(self, instruction: str, *, mode: str = "", max_seconds: float = 0.0, timeout: float = 600.0,
                 on_feedback: Callable[[Any], None] | None = None,
                 interrupted: threading.Event | None = None) -> tuple[int, Any]:
        """Send a goal and wait for its result; setting `interrupted` cancels it. Returns (status, result)."""
        goal = self._types[0].Goal(instruction=instruction, mode=mode, max_seconds=float(max_seconds))
        accepted, done = threading.Event(), threading.Event()
        box: dict[str, Any] = {}

        def on_result(fut: Any) -> None:
            box["res"] = fut.result()
            done.set()

        def on_goal(fut: Any) -> None:
            box["handle"] = handle = fut.result()
            accepted.set()
            if handle.accepted:
                handle.get_result_async().add_done_callback(on_result)
            else:
                done.set()

        fb_cb = (lambda msg: on_feedback(msg.feedback)) if on_feedback else None
        self.action.send_goal_async(goal, feedback_callback=fb_cb).add_done_callback(on_goal)
        if not accepted.wait(30):
            raise GoalFailed("the action server did not answer the goal request")
        if not box["handle"].accepted:
            raise GoalFailed("goal rejected")
        deadline = time.monotonic() + timeout
        canceled = False
        while not done.wait(0.1):
            if interrupted is not None and interrupted.is_set() and not canceled:
                box["handle"].cancel_goal_async()
                canceled = True
                deadline = min(deadline, time.monotonic() + 10)
            if time.monotonic() > deadline:
                if not canceled:
                    box["handle"].cancel_goal_async()
                    canceled = True
                    deadline = time.monotonic() + 10
                    continue
                raise GoalFailed("no result after canceling the goal")
        return box["res"].status, box["res"].result

    def close(self) -> None:
        import rclpy  # noqa: PLC0415

        self.executor.shutdown(timeout_sec=1)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(5)
