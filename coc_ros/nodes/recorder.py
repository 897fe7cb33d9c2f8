"""`recorder` node: one rosbag2 directory (MCAP, written with the `rosbags` library) per Chain of Code run.

Records /coc/trace, /coc/lmulator/state, /coc/skill_calls and the action's hidden feedback and status topics
(/coc/execute/_action/feedback, /coc/execute/_action/status), all as raw CDR bytes with our types registered.
A bag <bag_dir>/<run_id> opens on the run's `run_start` trace event and closes `close_grace_s` after its
`run_end` (messages of other topics that were in flight still land in it); then the path is published on
/coc/recorder/closed (std_msgs/String), which coc_server waits for before returning the goal's result.
The run_end event says how many lmulator states the run produced (`lmulator_states`, coc_server's count of
Simulate answers). A lmulator started just before the run can match this recorder late, and its transient-local
history then arrives after run_end (seen under load), so the bag stays open until it holds that many states of
the run, for at most `state_wait_s` more; a bag closed short logs how many are missing.
The latest goal status seen before run_start (EXECUTING) is written when the bag opens; the goal's terminal
status is published after the bag closed, so it is not in the bag (the trace's run_end holds the outcome).
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

import rclpy
from action_msgs.msg import GoalStatusArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.serialization import deserialize_message
from rclpy.timer import Timer
from rosbags.rosbag2 import StoragePlugin, Writer
from std_msgs.msg import String

from coc_ros.action import ExecuteInstruction
from coc_ros.msg import SimulatedState, SkillCall, TraceEvent
from coc_ros.ros import names
from coc_ros.ros.bag import FEEDBACK_MESSAGE, feedback_msgdef, make_typestore
from coc_ros.ros.qos import feedback_qos, history_qos, status_qos, trace_qos
from coc_ros.ros.spin import spin

TOPICS = [
    (names.TRACE, TraceEvent, "coc_ros/msg/TraceEvent", trace_qos),
    (names.LM_STATE, SimulatedState, "coc_ros/msg/SimulatedState", history_qos),
    (names.SKILL_CALLS, SkillCall, "coc_ros/msg/SkillCall", history_qos),
    (names.ACTION_FEEDBACK, ExecuteInstruction.Impl.FeedbackMessage, FEEDBACK_MESSAGE, feedback_qos),
    (names.ACTION_STATUS, GoalStatusArray, "action_msgs/msg/GoalStatusArray", status_qos),
]


class Recorder(Node):
    """Writes each run's topics, as raw CDR, into its own bag."""

    def __init__(self) -> None:
        super().__init__(names.RECORDER_NODE)
        self.bag_dir = Path(names.bag_path(self.declare_parameter("bag_dir", "/tmp/coc_ros/bags").value, ""))
        storage: str = self.declare_parameter("storage", "mcap").value
        self.grace: float = self.declare_parameter("close_grace_s", 0.3).value
        self.state_wait_s: float = self.declare_parameter("state_wait_s", 3.0).value
        if storage not in ("mcap", "sqlite3"):
            raise ValueError(f"storage must be mcap or sqlite3, got {storage!r}")
        self.storage = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        self.typestore = make_typestore()
        self.feedback_def = feedback_msgdef()
        self._lock = threading.Lock()
        self.writer: Writer | None = None
        self.path = ""
        self.run_id = ""
        self.connections: dict[str, Any] = {}
        self.close_timer: Timer | None = None
        self.states = 0  # lmulator states of the open run written so far
        self.states_expected = 0
        self.close_deadline = 0.0
        self.last_status: bytes | None = None
        self.closed_pub = self.create_publisher(String, names.RECORDER_CLOSED, 10)
        for topic, msg_type, type_name, qos in TOPICS:
            self.create_subscription(msg_type, topic, self._on_message(topic, type_name), qos(), raw=True)
        self.get_logger().info(f"recorder ready (bags under {self.bag_dir})")

    def _on_message(self, topic: str, type_name: str) -> Callable[[bytes], None]:
        """The subscription callback of one topic (raw bytes: written to the bag as they came)."""
        def on_message(data: bytes) -> None:
            stamp = time.time_ns()
            if topic == names.TRACE:
                msg = deserialize_message(data, TraceEvent)
                if msg.kind == "run_start":
                    self._open(msg.run_id)
                self._write(topic, type_name, data, stamp)
                if msg.kind == "run_end" and msg.run_id == self.run_id:
                    self._schedule_close(_expected_states(msg.detail_json))
                return
            if topic == names.LM_STATE:
                if deserialize_message(data, SimulatedState).run_id != self.run_id or not self.run_id:
                    return  # history of another run, replayed to a late-matching subscription
                self.states += 1
            if topic == names.ACTION_STATUS:
                self.last_status = bytes(data)
            self._write(topic, type_name, data, stamp)
        return on_message

    def _open(self, run_id: str) -> None:
        self._close()  # a run that never ended (its server died): close its bag as it is
        path = Path(names.bag_path(str(self.bag_dir), run_id))
        try:
            self.bag_dir.mkdir(parents=True, exist_ok=True)
            writer = Writer(path, version=9, storage_plugin=self.storage)
            writer.open()
        except Exception as exc:  # a bag that cannot be written must not stop the node
            self.get_logger().error(f"cannot open bag {path}: {exc}")
            return
        with self._lock:
            self.writer, self.path, self.run_id, self.connections = writer, str(path), run_id, {}
            self.states, self.states_expected = 0, 0
        if self.last_status is not None:
            # The goal went ACCEPTED -> EXECUTING before the engine said run_start: keep that status in the bag.
            self._write(names.ACTION_STATUS, "action_msgs/msg/GoalStatusArray", self.last_status, time.time_ns())
        self.get_logger().info(f"recording run {run_id} to {path}")

    def _write(self, topic: str, type_name: str, data: bytes, stamp: int) -> None:
        with self._lock:
            if self.writer is None:
                return
            conn = self.connections.get(topic)
            if conn is None:
                if type_name == FEEDBACK_MESSAGE:
                    conn = self.writer.add_connection(topic, type_name, msgdef=self.feedback_def,
                                                      rihs01=self.typestore.hash_rihs01(type_name))
                else:
                    conn = self.writer.add_connection(topic, type_name, typestore=self.typestore)
                self.connections[topic] = conn
            self.writer.write(conn, stamp, bytes(data))

    def _schedule_close(self, states_expected: int) -> None:
        if self.close_timer is not None:
            return
        self.states_expected = states_expected
        self.close_deadline = time.monotonic() + self.grace + self.state_wait_s
        waited: list[int] = []

        def fire() -> None:
            missing = self.states_expected - self.states
            if missing > 0 and time.monotonic() < self.close_deadline:
                if not waited:  # a late-matched lmulator's history is still on its way: look again in close_grace_s
                    waited.append(missing)
                    self.get_logger().info(f"bag {self.path}: waiting up to {self.state_wait_s:g} s for {missing} "
                                           f"more lmulator states")
                return
            if missing > 0:
                self.get_logger().warning(f"closing bag {self.path} without {missing} of its {self.states_expected} "
                                          f"lmulator states (still missing {self.state_wait_s:g} s after the grace)")
            self.close_timer.cancel()
            self.destroy_timer(self.close_timer)
            self.close_timer = None
            self._close()

        self.close_timer = self.create_timer(self.grace, fire)

    def _close(self) -> None:
        with self._lock:
            writer, path = self.writer, self.path
            self.writer, self.path, self.run_id, self.connections = None, "", "", {}
        if writer is None:
            return
        try:
            writer.close()
        except Exception as exc:  # a bag that cannot be written must not stop the node
            self.get_logger().error(f"closing bag {path} failed: {exc}")
        self.closed_pub.publish(String(data=path))
        self.get_logger().info(f"bag closed: {path}")

    def close(self) -> None:
        self._close()


def _expected_states(detail_json: str) -> int:
    """The run_end event's count of lmulator states (0 when absent or unreadable: nothing to wait for)."""
    try:
        return max(0, int(json.loads(detail_json or "{}").get("lmulator_states", 0)))
    except (ValueError, TypeError, AttributeError):
        return 0


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    raise SystemExit(spin(Recorder, SingleThreadedExecutor(), names.RECORDER_NODE))


if __name__ == "__main__":
    main()
