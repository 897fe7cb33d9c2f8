"""`coc_server` node: the ExecuteInstruction action server that runs the Chain of Code engine.

Action /coc/execute (coc_ros/action/ExecuteInstruction):
- One goal at a time. Every goal is accepted; a goal that arrives while another runs is aborted at once with
  error "busy: ..." (so the client gets a clear reason in the result instead of a bare rejection). An empty
  instruction or one longer than `max_instruction_chars` is aborted the same way ("empty instruction ...",
  "instruction too long ...") without running the engine.
- The engine runs in the execute callback on a MultiThreadedExecutor (ReentrantCallbackGroup). Its program
  generation goes to the lmulator node's Complete service (RosLLMClient), undefined helpers to its Simulate
  service (RosSimulator), robot skills through RobotAPI's checks to the skill_server (RosSkillBackend).
- Feedback: one message per executed statement (trace events of kind line/answer). Every TraceEvent is also
  published on /coc/trace (coc_ros/msg/TraceEvent).
- Cancel: sets the engine's cancel event, stops the ROS calls in flight and calls /coc/skills/stop; the result
  has error "canceled" and the goal ends CANCELED.
- Confirmation mode (safety {"require_confirmation": true}): before every motion the server calls
  /coc/approve_motion (coc_ros/srv/ApproveMotion, served by `coc-ros approve`) and waits up to
  `approve_timeout_s`; a rejection, no approver or no answer in time rejects the motion, which the program sees
  as a RobotError ("rejected: ...") and which ends the run with that error unless the program catches it.
- Bags: the recorder writes <bag_dir>/<run_id> for each run and acknowledges on /coc/recorder/closed; the server
  waits for that (recorder_close_timeout_s) before returning, so the bag is complete when the client has the
  result. result.bag_path is empty when recording is off or the recorder did not acknowledge.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from coc_ros.nodes import common


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _make_node() -> Any:
    from rclpy.action import ActionServer, CancelResponse, GoalResponse  # noqa: PLC0415
    from rclpy.callback_groups import ReentrantCallbackGroup  # noqa: PLC0415
    from rclpy.node import Node  # noqa: PLC0415
    from std_msgs.msg import String  # noqa: PLC0415

    from coc_ros.action import ExecuteInstruction  # noqa: PLC0415
    from coc_ros.engine.runner import Engine  # noqa: PLC0415
    from coc_ros.core.types import Limits  # noqa: PLC0415
    from coc_ros.msg import TraceEvent as TraceEventMsg  # noqa: PLC0415
    from coc_ros.nodes.ros_clients import HeartbeatMonitor, RosLLMClient, RosSimulator, RosSkillBackend  # noqa: PLC0415
    from coc_ros.robot.api import RobotAPI, SafetyConfig  # noqa: PLC0415
    from coc_ros.robot.backend import SkillError  # noqa: PLC0415
    from coc_ros.srv import ApproveMotion  # noqa: PLC0415

    class CocServer(Node):
        def __init__(self) -> None:
            super().__init__("coc_server")
            params = {
                "default_mode": "coc-interweave",
                "max_instruction_chars": 8000,
                "max_seconds": 300.0,
                "max_lm_calls": 64,
                "max_statements": 10000,
                "use_robot": True,
                "record": True,
                "bag_dir": "/tmp/coc_ros/bags",
                "recorder_wait_s": 5.0,
                "recorder_close_timeout_s": 5.0,
                "service_wait_s": 10.0,
                "lm_timeout_s": 600.0,
                "skill_timeout_s": 300.0,
                "dead_after_s": 3.0,
                "safety": "{}",
                "approve_timeout_s": 30.0,
            }
            for name, default in params.items():
                self.declare_parameter(name, default)
            self.p = {name: self.get_parameter(name).value for name in params}
            self.group = ReentrantCallbackGroup()
            wait, dead = float(self.p["service_wait_s"]), float(self.p["dead_after_s"])
            lm_beat = HeartbeatMonitor(self, common.LM_HEARTBEAT, self.group)
            self.llm = RosLLMClient(self, wait_s=wait, timeout_s=float(self.p["lm_timeout_s"]), dead_after_s=dead,
                                    heartbeat=lm_beat, callback_group=self.group)
            self.simulator = RosSimulator(self, wait_s=wait, timeout_s=float(self.p["lm_timeout_s"]),
                                          dead_after_s=dead, heartbeat=lm_beat, callback_group=self.group)
            self.skills = RosSkillBackend(self, wait_s=wait, timeout_s=float(self.p["skill_timeout_s"]),
                                          dead_after_s=dead, callback_group=self.group)
            self.safety = SafetyConfig.from_dict(json.loads(self.p["safety"] or "{}"))
            self.approver = None
            if self.safety.require_confirmation:
                from coc_ros.nodes.ros_clients import ServiceCaller  # noqa: PLC0415

                self.approver = ServiceCaller(self, ApproveMotion, common.APPROVE_MOTION, what="motion approver",
                                              callback_group=self.group)
            self.robot = (RobotAPI(self.skills, self.safety, approver=self._approve if self.approver else None)
                          if self.p["use_robot"] else None)
            self.trace_pub = self.create_publisher(TraceEventMsg, common.TRACE, common.trace_qos())
            self._acks: dict[str, threading.Event] = {}
            self._acks_lock = threading.Lock()
            self.create_subscription(String, common.RECORDER_CLOSED, self._on_closed, 10,
                                     callback_group=self.group)
            self._busy = threading.Lock()
            self._current_run = ""
            self._cancel: threading.Event | None = None
            self.server = ActionServer(self, ExecuteInstruction, common.ACTION, execute_callback=self._execute,
                                       goal_callback=lambda _g: GoalResponse.ACCEPT,
                                       cancel_callback=self._on_cancel, callback_group=self.group)
            self.get_logger().info("coc_server ready")

        # ------------------------------------------------------------------------------------------- recorder
        def _on_closed(self, msg: Any) -> None:
            with self._acks_lock:
                event = self._acks.get(msg.data)
            if event is not None:
                event.set()

        def _wait_for_recorder(self) -> bool:
            deadline = time.monotonic() + float(self.p["recorder_wait_s"])
            while self.trace_pub.get_subscription_count() == 0:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
            return True

        # ------------------------------------------------------------------------------------------- approval
        def _approve(self, skill: str, request: dict[str, Any]) -> bool:
            """Ask /coc/approve_motion; no approver, no answer in time or a 'no' rejects the motion."""
            from coc_ros.nodes.ros_clients import ServiceUnavailable  # noqa: PLC0415

            timeout = float(self.p["approve_timeout_s"])
            what = f"{skill} {json.dumps(request, default=str)}"
            req = ApproveMotion.Request(skill=skill, request_json=json.dumps(request, default=str))
            start = time.monotonic()
            try:
                if not self.approver.client.wait_for_service(timeout_sec=timeout):
                    raise ServiceUnavailable(f"service {common.APPROVE_MOTION} not found (is `coc-ros approve` "
                                             "running?)")
                resp = self.approver.call(req, wait_s=0.0, cancel=self._cancel,
                                          timeout_s=max(0.1, timeout - (time.monotonic() - start)))
            except ServiceUnavailable as exc:
                self.get_logger().warning(f"motion rejected (no approval): {exc}")
                raise SkillError("rejected", f"{what} was not approved: no answer from the motion approver "
                                             f"within {timeout:g} s: {exc}") from None
            if not resp.approved:
                reason = f": {resp.reason}" if resp.reason else ""
                self.get_logger().info(f"motion rejected by the operator: {what}{reason}")
                raise SkillError("rejected", f"the operator rejected {what}{reason}")
            return True

        # ------------------------------------------------------------------------------------------- cancel
        def _on_cancel(self, _goal_handle: Any) -> Any:
            cancel = self._cancel
            if cancel is not None:
                cancel.set()
                threading.Thread(target=self.skills.stop, daemon=True, name="coc-stop").start()
            return CancelResponse.ACCEPT

        # ------------------------------------------------------------------------------------------- execute
        def _execute(self, goal_handle: Any) -> Any:
            goal = goal_handle.request
            instruction = goal.instruction or ""
            result = ExecuteInstruction.Result()
            error = ""
            limit = int(self.p["max_instruction_chars"])
            if not instruction.strip():
                error = "empty instruction: tell the robot what to do"
            elif len(instruction) > limit:
                error = f"instruction too long: {len(instruction)} characters (limit {limit})"
            elif not self._busy.acquire(blocking=False):
                error = (f"busy: goal {self._current_run} is still running; this server runs one goal at a time "
                         "(wait for it or cancel it, then send again)")
            if error:
                self.get_logger().warning(f"goal refused: {error}")
                result.success, result.error = False, error
                goal_handle.abort()
                return result
            try:
                return self._run_goal(goal_handle, instruction, result)
            finally:
                self._cancel = None
                self._current_run = ""
                self._busy.release()

        def _run_goal(self, goal_handle: Any, instruction: str, result: Any) -> Any:
            goal = goal_handle.request
            run_id = new_run_id()
            cancel = threading.Event()
            self._current_run, self._cancel = run_id, cancel
            for client in (self.llm, self.simulator, self.skills):
                client.cancel_event = cancel
            self.llm.run_id = run_id
            self.skills._places = None  # the skill server may have been restarted with another scene
            if self.robot is not None:
                self.robot.reset()
            bag_path = ""
            ack = None
            if self.p["record"]:
                if self._wait_for_recorder():
                    bag_path = common.bag_path(self.p["bag_dir"], run_id)
                    ack = threading.Event()
                    with self._acks_lock:
                        self._acks[bag_path] = ack
                else:
                    self.get_logger().warning("no recorder subscribed to /coc/trace: this run is not recorded")
            steps = 0

            def on_event(event: Any) -> None:
                nonlocal steps
                self.trace_pub.publish(common.trace_to_msg(event))
                if event.kind in ("line", "answer"):
                    steps += 1
                    fb = ExecuteInstruction.Feedback(step=steps, line=int(event.line or 0),
                                                     source=str(event.source or "")[:1000], executor=event.executor,
                                                     state_summary=common.state_summary(event.state_delta))
                    goal_handle.publish_feedback(fb)

            limits = Limits(max_statements=int(self.p["max_statements"]), max_lm_calls=int(self.p["max_lm_calls"]),
                            max_question_chars=int(self.p["max_instruction_chars"]),
                            timeout_s=float(goal.max_seconds) if goal.max_seconds > 0 else float(self.p["max_seconds"]))
            engine = Engine(self.llm, simulator=self.simulator, robot=self.robot, limits=limits)
            mode = goal.mode or str(self.p["default_mode"])
            self.get_logger().info(f"run {run_id}: {instruction[:120]!r} ({mode})")
            t0 = time.monotonic()
            run = engine.run(instruction, mode, on_event=on_event, cancel=cancel, run_id=run_id)
            canceled = cancel.is_set() or run.error_kind == "canceled"
            if ack is not None:
                if not ack.wait(float(self.p["recorder_close_timeout_s"])):
                    self.get_logger().warning(f"recorder did not confirm {bag_path}; the bag may be incomplete")
                    bag_path = ""
                with self._acks_lock:
                    self._acks.pop(common.bag_path(self.p["bag_dir"], run_id), None)
            world_json = ""
            if self.robot is not None:
                try:
                    world_json = json.dumps(self.skills.get_world(timeout_s=3.0, wait_s=1.0))
                except Exception as exc:  # noqa: BLE001 - the result still goes out without the world
                    self.get_logger().warning(f"get_world failed: {exc}")
            result.success = bool(run.success) and not canceled
            result.answer = "" if run.answer is None else str(run.answer)
            result.program = run.program or ""
            result.error = "canceled" if canceled else (run.error or "")
            result.bag_path = bag_path
            result.run_id = run_id
            result.world_json = world_json
            result.lm_calls = int(run.lm_calls)
            result.steps = steps
            self.get_logger().info(f"run {run_id} done in {time.monotonic() - t0:.2f} s: success={result.success} "
                                   f"answer={result.answer[:80]!r} error={result.error[:200]!r}")
            if canceled and goal_handle.is_cancel_requested:
                goal_handle.canceled()
            elif result.success:
                goal_handle.succeed()
            else:
                goal_handle.abort()
            return result

    return CocServer()


def main(args: list[str] | None = None) -> None:
    raise SystemExit(common.run_node(_make_node, threads=8, args=args, name="coc_server"))


if __name__ == "__main__":
    main()
