"""QoS profiles of the coc topics whose delivery matters (trace, histories, the action's hidden topics)."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy


def trace_qos() -> QoSProfile:
    """Reliable and deep: a burst of fast statements must not drop trace events before the recorder sees them."""
    return QoSProfile(depth=1000, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)


def history_qos() -> QoSProfile:
    """trace_qos plus transient local, for topics whose publisher cannot wait for the recorder (lmulator state,
    skill calls): a subscription that matches late (discovery under load) still gets what it missed."""
    return QoSProfile(depth=1000, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def feedback_qos() -> QoSProfile:
    """As the action server publishes feedback (reliable, volatile)."""
    return QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def status_qos() -> QoSProfile:
    """As the action server publishes goal status (reliable, transient local, latest only)."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
