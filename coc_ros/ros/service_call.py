"""One service call that cannot hang and does not lose requests: the layer under coc_server's calls to the
lmulator and skill_server and under the CLI's calls.

A call is sent with call_async from a thread that does not spin (the node's executor delivers the response
and the heartbeats); the thread waits on an Event and watches

- cancel (an Event set by the goal's cancel) and the timeout,
- the service in the graph (a server that shut down cleanly disappears at once),
- the server's heartbeat (coc_ros.ros.heartbeat): no beat for `dead_after_s` means the process died; another
  instance beating means it was restarted during the call; a live instance that stays idle for `lost_after_s`
  while our response has not come means the request or its response was lost.

Why calls get lost (README, "Known issue"; test/test_ros_service_call.py stages each case): DDS delivers a
reliable message only to readers its writer has matched. After a server is SIGKILLed its endpoints stay matched
until the lease expires, so `wait_for_service` answers true at once and the first request can go to the dead
reader only; and rmw_fastrtps
waits only briefly for the server to match the client's response reader before dropping a response ("failed to
send response (timeout)" in the server's log), which a loaded machine can exceed when client or server is new.
A lost call is sent once more when that is safe: when the server never took the request, or when the server
makes repeats harmless (`repeat_safe`: the lmulator replays its answer to an identical request). A server that
left the graph during the call (a restart: SIGKILL, then the same node started again by a supervisor or a launch
respawn) counts as a loss too: the call waits up to `wait_s` for a newly beating server and goes to it when that
is safe, and is a clear ServiceUnavailable otherwise.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.task import Future

from coc_ros.core.types import Canceled
from coc_ros.ros.heartbeat import HEARTBEAT_PERIOD_S, Beat, HeartbeatMonitor


MAX_ATTEMPTS = 3  # sends of one call in all, when every loss was one the server never took


class ServiceUnavailable(Exception):
    """The server is not there, went away during the call, did not answer in time or lost the call twice."""


@dataclasses.dataclass
class _Lost:
    """Why an attempt got no response, and whether the server may have acted on the request."""

    reason: str
    taken: bool


class ServiceCaller:
    """One service client with availability checks, a timeout, cancel, dead-server and lost-call detection."""

    def __init__(self, node: Node, srv_type: Any, name: str, *, what: str, callback_group: CallbackGroup | None = None,
                 heartbeat: HeartbeatMonitor | None = None, wait_s: float = 10.0, timeout_s: float = 120.0,
                 dead_after_s: float = 3.0, lost_after_s: float = 1.5, repeat_safe: bool = False):
        self.node = node
        self.name = name
        self.what = what
        self.client = node.create_client(srv_type, name, callback_group=callback_group)
        self.heartbeat = heartbeat
        self.wait_s = wait_s
        self.timeout_s = timeout_s
        self.dead_after_s = dead_after_s
        self.lost_after_s = lost_after_s
        self.repeat_safe = repeat_safe

    def call(self, request: Any, *, timeout_s: float | None = None, wait_s: float | None = None,
             cancel: threading.Event | None = None) -> Any:
        """The response; ServiceUnavailable or Canceled otherwise. A lost call is sent again when safe: a request
        the server never took, up to MAX_ATTEMPTS in all (a server that was just restarted may not have matched
        our request reader yet, and the next request then gets lost too: seen under load); one the server took,
        once, and only to a server that makes repeats harmless."""
        wait_s = self.wait_s if wait_s is None else wait_s
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        losses: list[_Lost] = []
        # A beat older than two periods may be a departed instance's last one (the server was just restarted and
        # its successor has not beaten yet): the call then waits for a current beat, or would take the
        # successor's first beat for a restart during the call.
        since = time.monotonic() - 2 * HEARTBEAT_PERIOD_S
        while True:
            beat = self._wait_until_available(wait_s, cancel, since)
            outcome = self._attempt(request, timeout_s, cancel, beat)
            if not isinstance(outcome, _Lost):
                return outcome
            losses.append(outcome)
            since = time.monotonic()  # the next send waits for a beat from after the loss
            if outcome.taken and not self.repeat_safe:
                raise ServiceUnavailable(f"{self.what}: {outcome.reason}; not sent again because the server may "
                                         "have acted on it")
            if len(losses) >= MAX_ATTEMPTS or sum(lost.taken for lost in losses) > 1:
                raise ServiceUnavailable(f"{self.what} lost the call to {self.name} {len(losses)} times: "
                                         + "; then ".join(lost.reason for lost in losses))
            self.node.get_logger().warning(f"{self.name}: {outcome.reason}; sending it again")

    def _wait_until_available(self, wait_s: float, cancel: threading.Event | None, since: float) -> Beat | None:
        beat = None
        if self.heartbeat is not None:
            beat = self.heartbeat.wait_live(self.dead_after_s, wait_s, cancel, since)
            if cancel is not None and cancel.is_set():
                raise Canceled("canceled")
            if beat is None:
                last = self.heartbeat.latest
                silence = f"no heartbeat for {time.monotonic() - last.seen:.1f} s" if last else "no heartbeat yet"
                raise ServiceUnavailable(f"{self.what} unavailable: {silence} on its heartbeat topic "
                                         f"(not started, or the process died?)")
        if not self.client.wait_for_service(timeout_sec=wait_s):
            raise ServiceUnavailable(f"{self.what} unavailable: service {self.name} not found within {wait_s:g} s")
        return beat

    def _attempt(self, request: Any, timeout_s: float, cancel: threading.Event | None,
                 beat: Beat | None) -> Any:
        done = threading.Event()
        start = time.monotonic()
        future = self.client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        idle_since: float | None = None
        next_check = start + 0.1
        while not done.wait(0.02):
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                self._drop(future)
                raise Canceled("canceled")
            if now - start > timeout_s:
                self._drop(future)
                raise ServiceUnavailable(f"{self.what} did not answer {self.name} within {timeout_s:g} s")
            if now < next_check:
                continue
            next_check = now + 0.1
            latest = self.heartbeat.latest if self.heartbeat is not None else None
            if not self.client.service_is_ready():
                self._drop(future)
                if beat is None or latest is None:
                    raise ServiceUnavailable(f"{self.what} unavailable: it went away during the call to {self.name}")
                # whether it took the request before going is unknowable (its last beat may predate the request)
                return _Lost(f"{self.what} went away during the call to {self.name}", taken=True)
            if beat is None or latest is None:
                continue
            if now - max(latest.seen, start) > self.dead_after_s:
                self._drop(future)
                raise ServiceUnavailable(f"{self.what} unavailable: it stopped responding during the call to "
                                         f"{self.name} (no heartbeat for {self.dead_after_s:g} s; process died?)")
            if latest.instance != beat.instance:
                self._drop(future)
                return _Lost(f"{self.what} was restarted during the call (instance {beat.instance} -> "
                             f"{latest.instance})", taken=True)
            if latest.seen <= start or latest.busy:  # beats are judged by when they arrived here: no clock skew
                idle_since = None
                continue
            idle_since = latest.seen if idle_since is None else idle_since
            if latest.seen - idle_since >= self.lost_after_s:
                self._drop(future)
                taken = latest.received > beat.received
                what = "the response was lost" if taken else "the request never reached it"
                return _Lost(f"{self.what} instance {latest.instance} is idle {self.lost_after_s:g} s after the "
                             f"call to {self.name} and no response came: {what}", taken=taken)
        result = future.result()
        if result is None:
            raise ServiceUnavailable(f"{self.what} returned no response for {self.name}")
        return result

    def _drop(self, future: Future) -> None:
        self.client.remove_pending_request(future)
        future.cancel()
