"""`recorder` node: one rosbag2 directory (MCAP, written with the `rosbags` library) per Chain of Code run.

Records /coc/trace, /coc/lmulator/state, /coc/skill_calls and the action's hidden feedback and status topics
(/coc/execute/_action/feedback, /coc/execute/_action/status), all as raw CDR bytes with our types registered.
A bag <bag_dir>/<run_id> opens on the run's `run_start` trace event and closes `close_grace_s` after its
`run_end` (messages of other topics that were in flight still land in it); then the path is published on
/coc/recorder/closed (std_msgs/String), which coc_server waits for before returning the goal's result.
The latest goal status seen before run_start (EXECUTING) is written when the bag opens; the goal's terminal
status is published after the bag closed, so it is not in the bag (the trace's run_end holds the outcome).
"""
from __future__ import annotations

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
                    self._schedule_close()
                return
            if topic == names.LM_STATE and deserialize_message(data, SimulatedState).run_id != self.run_id:
                return  # history of another run, replayed to a late-matching subscription
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

    def _schedule_close(self) -> None:
        if self.close_timer is not None:
            return

        def fire() -> None:
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


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    raise SystemExit(spin(Recorder, SingleThreadedExecutor(), names.RECORDER_NODE))


if __name__ == "__main__":
    main()
