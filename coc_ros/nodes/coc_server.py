"""`coc_server` node: the ExecuteInstruction action server that runs the Chain of Code engine.

Action /coc/execute (coc_ros/action/ExecuteInstruction):
- One goal at a time. Every goal is accepted; a goal that arrives while another runs is aborted at once with
  error "busy: ..." (so the client gets a clear reason in the result instead of a bare rejection). An empty
  instruction or one longer than `max_instruction_chars` is aborted the same way ("empty instruction ...",
  "instruction too long ...") without running the engine.
- The engine runs in the execute callback on a MultiThreadedExecutor (ReentrantCallbackGroup). Its program
  generation goes to the lmulator node's Complete service (RemoteLLM), undefined helpers to its Simulate
  service (RemoteLMulator), robot skills through RobotAPI's checks to the skill_server (RemoteSkills); all
  three over coc_ros.ros.service_call (heartbeat, cancel, lost-call detection).
- Feedback: one message per executed statement (trace events of kind line/answer). Every TraceEvent is also
  published on /coc/trace (coc_ros/msg/TraceEvent).
- Cancel: sets the engine's cancel event, stops the ROS calls in flight and calls /coc/skills/stop; the result
  has error "canceled" and the goal ends CANCELED.
- Confirmation mode (safety {"require_confirmation": true}): before every motion the server calls
  /coc/approve_motion (coc_ros/srv/ApproveMotion, served by `coc-ros approve`) and waits up to
  `approve_timeout_s`; a rejection, no approver or no answer in time rejects the motion, which the program sees
  as a RobotError ("rejected: ...") and which ends the run with that error unless the program catches it. The
  approver beats on /coc/approve_motion/heartbeat, so an approver that died or a request lost under load is a
  rejection within `dead_after_s` (a few seconds), not after the whole `approve_timeout_s`.
- Parameters: the engine limits (max_statements, max_lm_calls, max_seconds) default to coc_ros.core.types.Limits;
  `techniques` is a JSON object of coc_ros.engine.techniques.Techniques switches (defaults when empty: all on but
  the opt-in rerank); see config/coc_ros.yaml for all of them.
- Bags: the recorder writes <bag_dir>/<run_id> for each run and acknowledges on /coc/recorder/closed; the server
  waits for that (recorder_close_timeout_s) before returning, so the bag is complete when the client has the
  result. result.bag_path is empty when recording is off or the recorder did not acknowledge.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid

import rclpy
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import String

from coc_ros.action import ExecuteInstruction
from coc_ros.core.answers import answer_text
from coc_ros.core.types import Limits, TraceEvent
from coc_ros.engine.runner import Engine
from coc_ros.engine.techniques import Techniques
from coc_ros.msg import TraceEvent as TraceEventMsg
from coc_ros.robot.api import RobotAPI, SafetyConfig
from coc_ros.robot.backend import SkillError
from coc_ros.ros import names
from coc_ros.ros.heartbeat import HeartbeatMonitor
from coc_ros.ros.messages import state_summary, trace_to_msg
from coc_ros.ros.qos import trace_qos
from coc_ros.ros.remote import RemoteSkills, lmulator_clients
from coc_ros.ros.service_call import ServiceCaller, ServiceUnavailable
from coc_ros.ros.spin import spin
from coc_ros.srv import ApproveMotion

LIMITS = Limits()


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


class CocServer(Node):
    """The action server; one goal at a time, each an Engine run over the remote LLM, LMulator and skills."""

    def __init__(self) -> None:
        super().__init__("coc_server")
        self.default_mode: str = self.declare_parameter("default_mode", "coc-interweave").value
        self.max_instruction_chars: int = self.declare_parameter("max_instruction_chars",
                                                                 LIMITS.max_question_chars).value
        self.max_seconds: float = self.declare_parameter("max_seconds", LIMITS.timeout_s).value
        self.max_lm_calls: int = self.declare_parameter("max_lm_calls", LIMITS.max_lm_calls).value
        self.max_statements: int = self.declare_parameter("max_statements", LIMITS.max_statements).value
        self.use_robot: bool = self.declare_parameter("use_robot", True).value
        self.record: bool = self.declare_parameter("record", True).value
        self.bag_dir: str = self.declare_parameter("bag_dir", "/tmp/coc_ros/bags").value
        self.recorder_wait_s: float = self.declare_parameter("recorder_wait_s", 5.0).value
        self.recorder_close_timeout_s: float = self.declare_parameter("recorder_close_timeout_s", 5.0).value
        service_wait_s: float = self.declare_parameter("service_wait_s", 10.0).value
        lm_timeout_s: float = self.declare_parameter("lm_timeout_s", 600.0).value
        skill_timeout_s: float = self.declare_parameter("skill_timeout_s", 300.0).value
        dead_after_s: float = self.declare_parameter("dead_after_s", 3.0).value
        safety_json: str = self.declare_parameter("safety", "{}").value
        techniques_json: str = self.declare_parameter("techniques", "{}").value
        self.approve_timeout_s: float = self.declare_parameter("approve_timeout_s", 30.0).value

        self.group = ReentrantCallbackGroup()
        self.llm, self.lmulator = lmulator_clients(self, wait_s=service_wait_s, timeout_s=lm_timeout_s,
                                                   dead_after_s=dead_after_s, callback_group=self.group)
        self.skills = RemoteSkills(self, wait_s=service_wait_s, timeout_s=skill_timeout_s,
                                   dead_after_s=dead_after_s, callback_group=self.group)
        self.safety = SafetyConfig.from_dict(json.loads(safety_json or "{}"))
        self.techniques = Techniques.from_dict(json.loads(techniques_json or "{}"))
        self.approver: ServiceCaller | None = None
        if self.safety.require_confirmation:
            beat = HeartbeatMonitor(self, names.APPROVER_HEARTBEAT, self.group, what="motion approver")
            self.approver = ServiceCaller(self, ApproveMotion, names.APPROVE_MOTION, what="motion approver",
                                          callback_group=self.group, heartbeat=beat, dead_after_s=dead_after_s)
        self.robot = (RobotAPI(self.skills, self.safety, approver=self.approve_motion if self.approver else None)
                      if self.use_robot else None)
        self.trace_pub = self.create_publisher(TraceEventMsg, names.TRACE, trace_qos())
        self._acks: dict[str, threading.Event] = {}
        self._acks_lock = threading.Lock()
        self.create_subscription(String, names.RECORDER_CLOSED, self.on_bag_closed, 10, callback_group=self.group)
        self._busy = threading.Lock()
        self._current_run = ""
        self._cancel: threading.Event | None = None
        # Feedback is one message per executed line: deep and reliable, like the trace, so a client whose
        # executor falls behind under load (measured: 3 of 13 lost at the default depth of 10) misses none.
        self.server = ActionServer(self, ExecuteInstruction, names.ACTION, execute_callback=self.execute_goal,
                                   goal_callback=self.accept_goal, cancel_callback=self.cancel_goal,
                                   callback_group=self.group, feedback_pub_qos_profile=trace_qos())
        self.get_logger().info("coc_server ready")

    # ------------------------------------------------------------------------------------------- recorder
    def on_bag_closed(self, msg: String) -> None:
        with self._acks_lock:
            event = self._acks.get(msg.data)
        if event is not None:
            event.set()

    def _recorder_subscribed(self) -> bool:
        return any(info.node_name == names.RECORDER_NODE
                   for info in self.get_subscriptions_info_by_topic(names.TRACE))

    def _wait_for_recorder(self) -> bool:
        """The recorder itself, not any subscriber (`coc-ros send-goal` subscribes to the trace too)."""
        deadline = time.monotonic() + self.recorder_wait_s
        while not self._recorder_subscribed():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # ------------------------------------------------------------------------------------------- approval
    def approve_motion(self, skill: str, request: dict[str, object]) -> bool:
        """Ask /coc/approve_motion; no approver, no answer in time or a 'no' rejects the motion."""
        assert self.approver is not None
        timeout = self.approve_timeout_s
        what = f"{skill} {json.dumps(request, default=str)}"
        req = ApproveMotion.Request(skill=skill, request_json=json.dumps(request, default=str))
        start = time.monotonic()
        try:
            if not self.approver.client.wait_for_service(timeout_sec=timeout):
                raise ServiceUnavailable(f"service {names.APPROVE_MOTION} not found within {timeout:g} s "
                                         "(is `coc-ros approve` running?)")
            left = max(0.1, timeout - (time.monotonic() - start))
            resp = self.approver.call(req, wait_s=left, cancel=self._cancel, timeout_s=left)
        except ServiceUnavailable as exc:
            self.get_logger().warning(f"motion rejected (no approval): {exc}")
            raise SkillError("rejected", f"{what} was not approved: no answer from the motion approver: "
                                         f"{exc}") from None
        if not resp.approved:
            reason = f": {resp.reason}" if resp.reason else ""
            self.get_logger().info(f"motion rejected by the operator: {what}{reason}")
            raise SkillError("rejected", f"the operator rejected {what}{reason}")
        return True

    # ------------------------------------------------------------------------------------------- goal / cancel
    def accept_goal(self, _goal_request: ExecuteInstruction.Goal) -> GoalResponse:
        """Every goal is accepted; refusals (busy, empty, too long) come back as an aborted result with a reason."""
        return GoalResponse.ACCEPT

    def cancel_goal(self, _goal_handle: ServerGoalHandle) -> CancelResponse:
        cancel = self._cancel
        if cancel is not None:
            cancel.set()
            threading.Thread(target=self.skills.stop, daemon=True, name="coc-stop").start()
        return CancelResponse.ACCEPT

    # ------------------------------------------------------------------------------------------- execute
    def execute_goal(self, goal_handle: ServerGoalHandle) -> ExecuteInstruction.Result:
        instruction = goal_handle.request.instruction or ""
        result = ExecuteInstruction.Result()
        error = ""
        limit = self.max_instruction_chars
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

    def _run_goal(self, goal_handle: ServerGoalHandle, instruction: str,
                  result: ExecuteInstruction.Result) -> ExecuteInstruction.Result:
        goal = goal_handle.request
        run_id = new_run_id()
        cancel = threading.Event()
        self._current_run, self._cancel = run_id, cancel
        for client in (self.llm, self.lmulator, self.skills):
            client.cancel_event = cancel
        self.llm.run_id = run_id
        self.lmulator.answered = 0
        if self.robot is not None:
            self.robot.reset()
        bag_path = ""
        ack = None
        if self.record:
            if self._wait_for_recorder():
                bag_path = names.bag_path(self.bag_dir, run_id)
                ack = threading.Event()
                with self._acks_lock:
                    self._acks[bag_path] = ack
            else:
                self.get_logger().warning("no recorder subscribed to /coc/trace: this run is not recorded")
        steps = 0

        def on_event(event: TraceEvent) -> None:
            nonlocal steps
            if event.kind == "run_end":  # how many lmulator states the bag must hold (the recorder waits for them)
                event = dataclasses.replace(event, detail={**event.detail, "lmulator_states": self.lmulator.answered})
            self.trace_pub.publish(trace_to_msg(event))
            if event.kind in ("line", "answer"):
                steps += 1
                goal_handle.publish_feedback(ExecuteInstruction.Feedback(
                    step=steps, line=int(event.line or 0), source=str(event.source or "")[:1000],
                    executor=event.executor, state_summary=state_summary(event.state_delta)))

        limits = Limits(max_statements=self.max_statements, max_lm_calls=self.max_lm_calls,
                        max_question_chars=self.max_instruction_chars,
                        timeout_s=float(goal.max_seconds) if goal.max_seconds > 0 else self.max_seconds)
        engine = Engine(self.llm, simulator=self.lmulator, robot=self.robot, limits=limits,
                        techniques=self.techniques)
        mode = goal.mode or self.default_mode
        self.get_logger().info(f"run {run_id}: {instruction[:120]!r} ({mode})")
        t0 = time.monotonic()
        run = engine.run(instruction, mode, on_event=on_event, cancel=cancel, run_id=run_id)
        canceled = cancel.is_set() or run.error_kind == "canceled"
        if ack is not None:
            if not ack.wait(self.recorder_close_timeout_s):
                self.get_logger().warning(f"recorder did not confirm {bag_path}; the bag may be incomplete")
                bag_path = ""
            with self._acks_lock:
                self._acks.pop(names.bag_path(self.bag_dir, run_id), None)
        world_json = ""
        if self.robot is not None:
            try:
                world_json = json.dumps(self.skills.get_world(timeout_s=3.0, wait_s=1.0))
            except SkillError as exc:  # the result still goes out without the world
                self.get_logger().warning(f"get_world failed: {exc}")
        result.success = bool(run.success) and not canceled
        result.answer = answer_text(run.answer)
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


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    raise SystemExit(spin(CocServer, MultiThreadedExecutor(num_threads=8), "coc_server"))


if __name__ == "__main__":
    main()
