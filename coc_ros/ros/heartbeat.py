"""Liveness of a server process, beyond what the DDS graph says.

A server that dies without saying goodbye (SIGKILL, OOM) keeps its service endpoints in every other
participant's graph until the DDS lease expires (20 s with Fast DDS defaults): `wait_for_service` and
`service_is_ready` still answer true, and a request sent then reaches nobody. So each server publishes a beat
every HEARTBEAT_PERIOD_S carrying

- `instance`: a random id of this process's server, so a restarted server is told apart from its dead
  predecessor,
- `received`: how many requests it has taken so far, and `busy`: how many it is handling now,

and a caller compares those with its own request: a live, idle instance whose `received` count did not move
after the request went out never got it (see coc_ros.ros.service_call).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Iterator

from rclpy.callback_groups import CallbackGroup, MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from std_msgs.msg import String

HEARTBEAT_PERIOD_S = 0.5


@dataclasses.dataclass(frozen=True)
class Beat:
    """One heartbeat as a caller saw it; `seen` is the caller's monotonic clock at reception."""

    instance: str
    received: int
    busy: int
    seen: float


class HeartbeatPublisher:
    """Publishes this server's beat from its own callback group (so it keeps beating while requests run) and
    counts the requests it serves: wrap each service callback's work in `with heartbeat.serving():`."""

    def __init__(self, node: Node, topic: str):
        self.instance = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._received = 0
        self._busy = 0
        self._pub = node.create_publisher(String, topic, 1)
        self._timer = node.create_timer(HEARTBEAT_PERIOD_S, self._beat,
                                        callback_group=MutuallyExclusiveCallbackGroup())

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        with self._lock:
            self._received += 1
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1

    def _beat(self) -> None:
        with self._lock:
            beat = {"instance": self.instance, "received": self._received, "busy": self._busy}
        self._pub.publish(String(data=json.dumps(beat)))


class HeartbeatMonitor:
    """The latest beat of a server (whichever instance is beating now). With `what`, each instance seen for the
    first time is logged (`<what>: instance <id> is live`): an operator sees restarts, and tests wait for that line
    before sending a goal to a just-restarted server."""

    def __init__(self, node: Node, topic: str, callback_group: CallbackGroup | None = None, what: str = ""):
        self._latest: Beat | None = None
        self._changed = threading.Condition()
        self._logger = node.get_logger() if what else None
        self._what = what
        self._sub = node.create_subscription(String, topic, self._on_beat, 10, callback_group=callback_group)

    def _on_beat(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
            beat = Beat(instance=str(data["instance"]), received=int(data["received"]), busy=int(data["busy"]),
                        seen=time.monotonic())
        except (ValueError, KeyError, TypeError):
            return  # not one of ours
        with self._changed:
            previous, self._latest = self._latest, beat
            self._changed.notify_all()
        if self._logger is not None and (previous is None or previous.instance != beat.instance):
            self._logger.info(f"{self._what}: instance {beat.instance} is live"
                              + (f" (was {previous.instance})" if previous else ""))

    @property
    def latest(self) -> Beat | None:
        return self._latest

    def live(self, dead_after_s: float, since: float = float("-inf")) -> Beat | None:
        """The latest beat if it is younger than dead_after_s and arrived after `since`, else None (no server, or
        it stopped beating)."""
        beat = self._latest
        if beat is None or time.monotonic() - beat.seen > dead_after_s or beat.seen <= since:
            return None
        return beat

    def wait_live(self, dead_after_s: float, timeout: float, stop: threading.Event | None = None,
                  since: float = float("-inf")) -> Beat | None:
        """Wait up to `timeout` for a live beat (a just-started server needs discovery time first). `since`: only
        a beat that arrived after that moment counts (after a server went away, its last beats are not a sign of
        life)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                beat = self.live(dead_after_s, since)
                left = deadline - time.monotonic()
                if beat is not None or left <= 0 or (stop is not None and stop.is_set()):
                    return beat
                self._changed.wait(min(left, 0.1))
