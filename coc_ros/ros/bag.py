"""Bags with rosbags: our .msg types and the action's feedback message registered as rosidl builds them, and the
trace read back as plain dicts.

Used by the recorder (writing) and by `coc-ros bag-show` (reading needs no ROS: MCAP bags embed definitions).
No rclpy here, so bag-show runs without ROS.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from coc_ros.ros.names import TRACE

MSG_NAMES = ("Detection", "TraceEvent", "SimulatedState", "SkillCall")
FEEDBACK = "coc_ros/action/ExecuteInstruction_Feedback"
FEEDBACK_MESSAGE = "coc_ros/action/ExecuteInstruction_FeedbackMessage"


def _interface_dir(kind: str) -> Path:
    here = Path(__file__).resolve().parents[2] / kind  # source tree
    if here.is_dir():
        return here
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        cand = Path(prefix) / "share" / "coc_ros" / kind
        if cand.is_dir():
            return cand
    cand = Path(sys.prefix) / "share" / "coc_ros" / kind
    if cand.is_dir():
        return cand
    raise FileNotFoundError(f"coc_ros {kind}/ definitions not found (source tree, AMENT_PREFIX_PATH, sys.prefix)")


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0].rstrip() for line in text.splitlines() if line.split("#", 1)[0].strip())


def make_typestore() -> Any:
    store = get_typestore(Stores.ROS2_KILTED)
    types: dict[str, Any] = {}
    msg_dir = _interface_dir("msg")
    for name in MSG_NAMES:
        types.update(get_types_from_msg((msg_dir / f"{name}.msg").read_text(), f"coc_ros/msg/{name}"))
    action_text = (_interface_dir("action") / "ExecuteInstruction.action").read_text()
    feedback = action_text.split("\n---")[2]
    types.update(get_types_from_msg(_strip_comments(feedback), FEEDBACK))
    types.update(get_types_from_msg(f"unique_identifier_msgs/UUID goal_id\n{FEEDBACK} feedback", FEEDBACK_MESSAGE))
    store.register(types)
    return store


def feedback_msgdef() -> str:
    """The ros2msg text (with dependencies) of the action's FeedbackMessage, for the bag's schema.

    rosbags cannot generate it itself (it only denormalizes '/msg/' type names), so it is written out here in
    the same layout rosbag2 uses: main definition, then '====' separated 'MSG: <type>' sections.
    """
    feedback = _strip_comments((_interface_dir("action") / "ExecuteInstruction.action").read_text().split("\n---")[2])
    sep = "=" * 80
    return (f"unique_identifier_msgs/UUID goal_id\n{FEEDBACK} feedback\n"
            f"{sep}\nMSG: unique_identifier_msgs/UUID\nuint8[16] uuid\n"
            f"{sep}\nMSG: {FEEDBACK}\n{feedback}\n")


def trace_msg_to_dict(msg: Any) -> dict[str, Any]:
    """A TraceEvent message (rclpy or rosbags object) -> plain dict with the JSON fields parsed."""
    def parse(text: str) -> Any:
        try:
            return json.loads(text) if text else {}
        except json.JSONDecodeError:
            return {"_raw": text}

    return {
        "stamp": msg.stamp.sec + msg.stamp.nanosec * 1e-9, "run_id": msg.run_id, "step": msg.step,
        "kind": msg.kind, "line": msg.line, "source": msg.source, "executor": msg.executor,
        "state_delta": parse(msg.state_delta_json), "duration": msg.duration, "detail": parse(msg.detail_json),
    }


def read_trace(path: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The /coc/trace events of a bag (as dicts) and the message count of every topic."""
    events: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    with AnyReader([Path(path)]) as reader:
        for conn, _ts, raw in reader.messages():
            counts[conn.topic] = counts.get(conn.topic, 0) + 1
            if conn.topic == TRACE:
                events.append(trace_msg_to_dict(reader.deserialize(raw, conn.msgtype)))
    return events, counts
