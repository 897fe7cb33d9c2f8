"""Shared pieces of the node executables: topic names, the spin/shutdown wrapper, message conversion."""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable

# Topic and service names: one place, so nodes, clients, the recorder and the tests agree.
ACTION = "/coc/execute"
TRACE = "/coc/trace"
LM_STATE = "/coc/lmulator/state"
LM_SIMULATE = "/coc/lmulator/simulate"
LM_COMPLETE = "/coc/lmulator/complete"
LM_HEARTBEAT = "/coc/lmulator/heartbeat"
SKILL_CALLS = "/coc/skill_calls"
SKILL_HEARTBEAT = "/coc/skills/heartbeat"
SKILL_DETECT = "/coc/skills/detect_objects"
SKILL_PICK_PLACE = "/coc/skills/pick_place"
SKILL_MOVE_TO = "/coc/skills/move_to"
SKILL_STOP = "/coc/skills/stop"
SKILL_GET_WORLD = "/coc/skills/get_world"
RECORDER_CLOSED = "/coc/recorder/closed"
APPROVE_MOTION = "/coc/approve_motion"  # confirmation mode: coc_server asks, `coc-ros approve` answers
ACTION_FEEDBACK = ACTION + "/_action/feedback"
ACTION_STATUS = ACTION + "/_action/status"

HEARTBEAT_PERIOD_S = 0.5


def bag_path(bag_dir: str, run_id: str) -> str:
    """Where the recorder writes a run's bag; coc_server reports the same path (they must agree)."""
    import os  # noqa: PLC0415

    return os.path.join(os.path.abspath(os.path.expanduser(str(bag_dir))), run_id)


def trace_qos():
    """Reliable and deep: a burst of fast statements must not drop trace events before the recorder sees them."""
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: PLC0415

    return QoSProfile(depth=1000, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)


def history_qos():
    """trace_qos plus transient local, for topics whose publisher cannot wait for the recorder (lmulator state,
    skill calls): a recorder subscription that matches late (discovery under load) still gets what it missed."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: PLC0415

    return QoSProfile(depth=1000, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def stamp_msg(t: float | None = None):
    from builtin_interfaces.msg import Time  # noqa: PLC0415

    t = time.time() if t is None else t
    sec = int(t)
    return Time(sec=sec, nanosec=int((t - sec) * 1e9))


def trace_to_msg(event: Any):
    """coc_ros.core.types.TraceEvent -> coc_ros/msg/TraceEvent."""
    from coc_ros.msg import TraceEvent  # noqa: PLC0415

    return TraceEvent(
        stamp=stamp_msg(event.stamp), run_id=event.run_id, step=max(0, int(event.step)), kind=event.kind,
        line=int(event.line or 0), source=str(event.source or ""), executor=event.executor,
        state_delta_json=json.dumps(event.state_delta or {}, default=str),
        duration=float(event.duration or 0.0), detail_json=json.dumps(event.detail or {}, default=str))


def trace_msg_to_dict(msg: Any) -> dict[str, Any]:
    """A TraceEvent message (rclpy or rosbags object) -> plain dict with the JSON fields parsed."""
    def _json(text: str) -> Any:
        try:
            return json.loads(text) if text else {}
        except json.JSONDecodeError:
            return {"_raw": text}

    return {
        "stamp": msg.stamp.sec + msg.stamp.nanosec * 1e-9, "run_id": msg.run_id, "step": msg.step,
        "kind": msg.kind, "line": msg.line, "source": msg.source, "executor": msg.executor,
        "state_delta": _json(msg.state_delta_json), "duration": msg.duration, "detail": _json(msg.detail_json),
    }


def state_summary(delta: dict[str, Any], limit: int = 200) -> str:
    text = "; ".join(f"{k}={v}" for k, v in (delta or {}).items())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_node(make_node: Callable[[], Any], *, threads: int = 1, args: list[str] | None = None,
             name: str = "node") -> int:
    """rclpy.init, build the node, spin until SIGINT/SIGTERM or shutdown, clean up; returns an exit code."""
    import rclpy  # noqa: PLC0415
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor  # noqa: PLC0415

    rclpy.init(args=sys.argv if args is None else args)
    node = None
    code = 0
    try:
        node = make_node()
        executor = MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as exc:  # noqa: BLE001 - a node that cannot start says why and exits non-zero
        import traceback  # noqa: PLC0415

        name = node.get_name() if node is not None else name
        print(f"[{name}] fatal: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("COC_ROS_DEBUG") or not str(exc):
            traceback.print_exc()
        code = 1
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # noqa: BLE001
                    print(f"error while closing: {exc}", file=sys.stderr)
            node.destroy_node()
        rclpy.try_shutdown()
    return code


class HeartbeatPublisher:
    """Publishes a timestamp every HEARTBEAT_PERIOD_S from its own callback group.

    Clients use it to notice a server process that died without saying goodbye (SIGKILL): DDS would only drop
    its services after the participant lease (20 s with Fast DDS defaults).
    """

    def __init__(self, node: Any, topic: str):
        from rclpy.callback_groups import MutuallyExclusiveCallbackGroup  # noqa: PLC0415
        from std_msgs.msg import Header  # noqa: PLC0415

        self._msg = Header
        self._node = node
        self._pub = node.create_publisher(Header, topic, 1)
        self._timer = node.create_timer(HEARTBEAT_PERIOD_S, self._beat,
                                        callback_group=MutuallyExclusiveCallbackGroup())

    def _beat(self) -> None:
        self._pub.publish(self._msg(stamp=stamp_msg(), frame_id=self._node.get_name()))
