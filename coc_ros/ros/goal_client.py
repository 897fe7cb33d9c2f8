"""The CLI's action client (`send-goal`, `demo`, the benchmarks and the tests use it): ExecuteInstruction goals
with feedback and the goal's live trace, and GetWorld calls over the shared service-call layer.

Distinct from coc_ros.ros.remote, coc_server's service callers. The node spins in a background thread on its
own rclpy context (so a process may hold several clients); callers wait on Events with timeouts.
"""
from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
import uuid
from typing import Any
from collections.abc import Callable

import rclpy
from action_msgs.msg import GoalStatusArray
from rclpy.action import ActionClient
from rclpy.action.client import ClientGoalHandle
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_action_status_default
from rclpy.signals import SignalHandlerOptions
from unique_identifier_msgs.msg import UUID

from coc_ros.action import ExecuteInstruction
from coc_ros.msg import TraceEvent as TraceEventMsg
from coc_ros.ros import names
from coc_ros.ros.bag import trace_msg_to_dict
from coc_ros.ros.heartbeat import HeartbeatMonitor
from coc_ros.ros.qos import trace_qos
from coc_ros.ros.service_call import ServiceCaller, ServiceUnavailable
from coc_ros.srv import GetWorld

STATUS = {0: "unknown", 1: "accepted", 2: "executing", 3: "canceling", 4: "succeeded", 5: "canceled", 6: "aborted"}


NO_GOAL_RESPONSE = "the action server did not answer the goal request"
GOAL_RESPONSE_S = 30.0  # how long a goal request may go unanswered (neither response nor status) before it failed
LOST_RESPONSE_S = 2.0  # the server's status lists our goal but its response has not come for this long: lost
RESULT_ASKS = 3  # get_result requests for one goal in all, when the status says it ended and no result came
TERMINAL = (4, 5, 6)  # succeeded, canceled, aborted


class GoalFailed(Exception):
    """The goal could not be sent, was rejected, or produced no result."""


@dataclasses.dataclass
class GoalTimes:
    """Monotonic times of a goal's milestones as this client saw them (for `coc-ros bench latency`)."""

    sent: float = 0.0
    accepted: float | None = None
    first_feedback: float | None = None
    result: float | None = None

    def saw_accepted(self, at: float) -> None:
        """Acceptance is the earliest of the goal response, the server's status listing the goal and its first
        feedback, whichever this client saw first: each proves the server had accepted it. Under load the response
        can come after feedback or be lost (measured on a busy CI machine: response and result at 2.17 s, first
        feedback at 0.22 s), and a late response must not move the time later."""
        self.accepted = at if self.accepted is None else min(self.accepted, at)


EventCallback = Callable[[dict[str, Any]], None]


class GoalClient:
    """Sends ExecuteInstruction goals to coc_server and follows them."""

    def __init__(self, name: str = "coc_cli") -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node(f"{name}_{os.getpid()}", context=self.context)
        # Deep feedback history: a follower whose executor lags under load must not lose lines (see coc_server).
        self.action = ActionClient(self.node, ExecuteInstruction, names.ACTION, feedback_sub_qos_profile=trace_qos())
        self.world = ServiceCaller(self.node, GetWorld, names.SKILL_GET_WORLD, what="skill_server node",
                                   heartbeat=HeartbeatMonitor(self.node, names.SKILL_HEARTBEAT), repeat_safe=True)
        self._on_event: EventCallback | None = None
        self._run_id = ""
        self._trace_sub = self.node.create_subscription(TraceEventMsg, names.TRACE, self._on_trace, trace_qos())
        # The server's goal statuses: a goal response that DDS dropped while discovery of this new client was
        # incomplete (seen under load: "failed to send response (timeout)") still shows the goal here, so the goal
        # is followed instead of being reported as unanswered while the robot runs it.
        # The same status also says when a goal has ended: a result response lost the same way is asked again.
        self._listed: dict[bytes, int] = {}  # id -> status, of the goals the server's latest status lists
        self._status_sub = self.node.create_subscription(GoalStatusArray, names.ACTION_STATUS, self._on_status,
                                                         qos_profile_action_status_default)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True, name=f"{name}-spin")
        self._thread.start()

    def wait_for_server(self, timeout: float) -> bool:
        """The action server, and (briefly) its trace publisher, so the live trace starts at run_start."""
        if not self.action.wait_for_server(timeout_sec=timeout):
            return False
        deadline = time.monotonic() + min(timeout, 5.0)
        while self._trace_sub.get_publisher_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        return True

    def trace_connected(self) -> bool:
        """Whether coc_server's /coc/trace publisher is matched, so a goal's trace events will arrive."""
        return self._trace_sub.get_publisher_count() > 0

    def get_world(self, image_path: str = "", timeout: float = 30.0) -> dict[str, str]:
        try:
            resp = self.world.call(GetWorld.Request(image_path=image_path), timeout_s=timeout, wait_s=timeout)
        except ServiceUnavailable as exc:
            raise GoalFailed(f"get_world: {exc}") from None
        if not resp.success:
            raise GoalFailed(f"get_world failed: {resp.error}")
        return json.loads(resp.world_json or "{}")

    def _on_trace(self, msg: TraceEventMsg) -> None:
        """Events of the goal in flight: its run is the first run_start after the goal was accepted."""
        on_event = self._on_event
        if on_event is None:
            return
        if not self._run_id and msg.kind == "run_start":
            self._run_id = msg.run_id
        if msg.run_id and msg.run_id == self._run_id:
            on_event(trace_msg_to_dict(msg))

    def _on_status(self, msg: GoalStatusArray) -> None:
        self._listed = {bytes(s.goal_info.goal_id.uuid): s.status for s in msg.status_list}

    def run_goal(self, instruction: str, *, mode: str = "", max_seconds: float = 0.0, timeout: float = 600.0,
                 on_feedback: Callable[[Any], None] | None = None, on_event: EventCallback | None = None,
                 interrupted: threading.Event | None = None,
                 times: GoalTimes | None = None) -> tuple[int, ExecuteInstruction.Result]:
        """Send a goal and wait for its result; setting `interrupted` cancels it. Returns (status, result).

        on_event gets the goal's trace events (dicts, as coc_ros.ros.bag.trace_msg_to_dict makes them);
        on_feedback the action's feedback messages."""
        times = times or GoalTimes()
        goal = ExecuteInstruction.Goal(instruction=instruction, mode=mode, max_seconds=float(max_seconds))
        accepted, done = threading.Event(), threading.Event()
        box: dict[str, Any] = {}

        def on_result(fut: Any) -> None:
            if done.is_set():  # a result asked again (see _wait) came after all: the first one counts
                return
            times.result = time.monotonic()
            box["res"] = fut.result()
            done.set()

        def on_goal(fut: Any) -> None:
            handle: ClientGoalHandle = fut.result()
            box["handle"] = handle
            times.saw_accepted(time.monotonic())
            accepted.set()
            if handle.accepted:
                handle.get_result_async().add_done_callback(on_result)
            else:
                done.set()

        def feedback(msg: Any) -> None:
            if times.first_feedback is None:
                times.first_feedback = time.monotonic()
                times.saw_accepted(times.first_feedback)
            if on_feedback is not None:
                on_feedback(msg.feedback)

        self._run_id, self._on_event = "", on_event
        goal_id = UUID(uuid=list(uuid.uuid4().bytes))
        try:
            times.sent = time.monotonic()
            self.action.send_goal_async(goal, feedback_callback=feedback, goal_uuid=goal_id).add_done_callback(on_goal)
            self._await_response(goal_id, accepted, box, on_result, times)
            if not box["handle"].accepted:
                raise GoalFailed("goal rejected")
            self._wait(box["handle"], done, timeout, interrupted, on_result)
        finally:
            self._on_event = None
        return box["res"].status, box["res"].result

    def _await_response(self, goal_id: UUID, accepted: threading.Event, box: dict[str, Any],
                        on_result: Callable[[Any], None], times: GoalTimes) -> None:
        """Until the goal response, or until the server's status shows the goal for LOST_RESPONSE_S without one:
        then the response was lost on the way and the goal is followed through a handle made from its id."""
        start = time.monotonic()
        listed_since: float | None = None
        while not accepted.wait(0.1):
            now = time.monotonic()
            if bytes(goal_id.uuid) in self._listed:
                listed_since = listed_since or now
                if now - listed_since >= LOST_RESPONSE_S:
                    times.saw_accepted(listed_since)
                    response = ExecuteInstruction.Impl.SendGoalService.Response(accepted=True)
                    box["handle"] = handle = ClientGoalHandle(self.action, goal_id, response)
                    handle.get_result_async().add_done_callback(on_result)
                    return
            if now - start > GOAL_RESPONSE_S:
                raise GoalFailed(NO_GOAL_RESPONSE)

    def _wait(self, handle: ClientGoalHandle, done: threading.Event, timeout: float,
              interrupted: threading.Event | None, on_result: Callable[[Any], None]) -> None:
        """Until the result; cancel on interrupt or timeout and give the server 10 s more to answer. A goal the
        server's status shows as ended for LOST_RESPONSE_S without a result here had its result request or response
        dropped (seen on a loaded CI machine: the goal done in 0.25 s, no result in 60 s): the result is asked
        again (the server keeps it for its result_timeout), RESULT_ASKS times in all."""
        deadline = time.monotonic() + timeout
        canceled = False
        asks, ended_since = 1, None
        goal_id = bytes(handle.goal_id.uuid)
        while not done.wait(0.1):
            now = time.monotonic()
            if self._listed.get(goal_id) in TERMINAL:
                ended_since = ended_since or now
                if now - ended_since >= LOST_RESPONSE_S and asks < RESULT_ASKS:
                    self.node.get_logger().warning(f"goal ended {now - ended_since:.1f} s ago but its result has "
                                                   "not come: asking for it again")
                    handle.get_result_async().add_done_callback(on_result)
                    asks, ended_since = asks + 1, now
            want_cancel = (interrupted is not None and interrupted.is_set()) or now > deadline
            if want_cancel and not canceled:
                handle.cancel_goal_async()
                canceled = True
                deadline = now + 10
            elif canceled and now > deadline:
                raise GoalFailed("no result after canceling the goal")

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=1)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(5)
