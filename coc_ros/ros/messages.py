"""Engine types -> ROS messages (trace events, stamps, the feedback's state summary)."""
from __future__ import annotations

import json
import time
from typing import Any

from builtin_interfaces.msg import Time

from coc_ros.core.types import TraceEvent
from coc_ros.msg import TraceEvent as TraceEventMsg


def stamp_msg(t: float | None = None) -> Time:
    """Wall-clock time as builtin_interfaces/Time (bags and traces use wall time, like rosbag2)."""
    t = time.time() if t is None else t
    sec = int(t)
    return Time(sec=sec, nanosec=int((t - sec) * 1e9))


def trace_to_msg(event: TraceEvent) -> TraceEventMsg:
    """coc_ros.core.types.TraceEvent -> coc_ros/msg/TraceEvent (detail and state delta as JSON text)."""
    return TraceEventMsg(
        stamp=stamp_msg(event.stamp), run_id=event.run_id, step=max(0, int(event.step)), kind=event.kind,
        line=int(event.line or 0), source=str(event.source or ""), executor=event.executor,
        state_delta_json=json.dumps(event.state_delta or {}, default=str),
        duration=float(event.duration or 0.0), detail_json=json.dumps(event.detail or {}, default=str))


def state_summary(delta: dict[str, Any], limit: int = 200) -> str:
    """One line for the action feedback: the variables a statement changed."""
    text = "; ".join(f"{k}={v}" for k, v in (delta or {}).items())
    return text if len(text) <= limit else text[: limit - 3] + "..."
