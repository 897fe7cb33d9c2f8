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

from coc_ros.nodes import common


def _make_node() -> Any:
    from rclpy.node import Node  # noqa: PLC0415
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: PLC0415
    from rclpy.serialization import deserialize_message  # noqa: PLC0415
    from rosbags.rosbag2 import StoragePlugin, Writer  # noqa: PLC0415
    from std_msgs.msg import String  # noqa: PLC0415

    from action_msgs.msg import GoalStatusArray  # noqa: PLC0415
    from coc_ros.action import ExecuteInstruction  # noqa: PLC0415
    from coc_ros.msg import SimulatedState, SkillCall, TraceEvent  # noqa: PLC0415
    from coc_ros.nodes.bagtypes import FEEDBACK_MESSAGE, feedback_msgdef, make_typestore  # noqa: PLC0415

    topics = [
        (common.TRACE, TraceEvent, "coc_ros/msg/TraceEvent", common.trace_qos()),
        (common.LM_STATE, SimulatedState, "coc_ros/msg/SimulatedState", common.history_qos()),
        (common.SKILL_CALLS, SkillCall, "coc_ros/msg/SkillCall", common.history_qos()),
        (common.ACTION_FEEDBACK, ExecuteInstruction.Impl.FeedbackMessage, FEEDBACK_MESSAGE,
         QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)),
        (common.ACTION_STATUS, GoalStatusArray, "action_msgs/msg/GoalStatusArray",
         QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)),
    ]

    class Recorder(Node):
        def __init__(self) -> None:
            super().__init__("recorder")
            self.declare_parameter("bag_dir", "/tmp/coc_ros/bags")
            self.declare_parameter("storage", "mcap")
            self.declare_parameter("close_grace_s", 0.3)
            self.bag_dir = Path(common.bag_path(self.get_parameter("bag_dir").value, ""))
            storage = self.get_parameter("storage").value
            if storage not in ("mcap", "sqlite3"):
                raise ValueError(f"storage must be mcap or sqlite3, got {storage!r}")
            self.storage = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
            self.grace = float(self.get_parameter("close_grace_s").value)
            self.typestore = make_typestore()
            self.feedback_def = feedback_msgdef()
            self._lock = threading.Lock()
            self.writer: Any = None
            self.path = ""
            self.run_id = ""
            self.connections: dict[str, Any] = {}
            self.close_timer: Any = None
            self.last_status: bytes | None = None
            self.closed_pub = self.create_publisher(String, common.RECORDER_CLOSED, 10)
            for topic, msg_type, type_name, qos in topics:
                self.create_subscription(msg_type, topic, self._make_cb(topic, type_name), qos, raw=True)
            self.get_logger().info(f"recorder ready (bags under {self.bag_dir})")

        def _make_cb(self, topic: str, type_name: str) -> Any:
            def cb(data: bytes) -> None:
                stamp = time.time_ns()
                if topic == common.TRACE:
                    msg = deserialize_message(data, TraceEvent)
                    if msg.kind == "run_start":
                        self._open(msg.run_id)
                    self._write(topic, type_name, data, stamp)
                    if msg.kind == "run_end" and msg.run_id == self.run_id:
                        self._schedule_close()
                else:
                    if topic == common.LM_STATE and deserialize_message(data, SimulatedState).run_id != self.run_id:
                        return  # history of another run, replayed to a late-matching subscription
                    if topic == common.ACTION_STATUS:
                        self.last_status = bytes(data)
                    self._write(topic, type_name, data, stamp)
            return cb

        def _open(self, run_id: str) -> None:
            self._close()  # a run that never ended (its server died): close its bag as it is
            path = Path(common.bag_path(str(self.bag_dir), run_id))
            try:
                self.bag_dir.mkdir(parents=True, exist_ok=True)
                writer = Writer(path, version=9, storage_plugin=self.storage)
                writer.open()
            except Exception as exc:  # noqa: BLE001
                self.get_logger().error(f"cannot open bag {path}: {exc}")
                return
            with self._lock:
                self.writer, self.path, self.run_id, self.connections = writer, str(path), run_id, {}
            if self.last_status is not None:
                # The goal went ACCEPTED -> EXECUTING before the engine said run_start: keep that status in the bag.
                self._write(common.ACTION_STATUS, "action_msgs/msg/GoalStatusArray", self.last_status, time.time_ns())
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
            except Exception as exc:  # noqa: BLE001
                self.get_logger().error(f"closing bag {path} failed: {exc}")
            self.closed_pub.publish(String(data=path))
            self.get_logger().info(f"bag closed: {path}")

        def close(self) -> None:
            self._close()

    return Recorder()


def main(args: list[str] | None = None) -> None:
    raise SystemExit(common.run_node(_make_node, threads=1, args=args, name="recorder"))


if __name__ == "__main__":
    main()
