"""The engine's collaborators over ROS: LLM (Complete), LMulatorProtocol (Simulate) and SkillBackend (skill services).

All calls are made from a worker thread of the node's MultiThreadedExecutor (never spinning themselves): the
request goes out with call_async and the thread waits on an Event. While waiting, the caller watches

- the service itself (a server that shut down cleanly disappears from the graph at once),
- the server's heartbeat topic (a SIGKILLed server stops beating; DDS would notice only after ~20 s),
- an optional cancel Event (set by coc_server when the goal is canceled),
- a timeout,

so a dead or stuck server becomes a clear error within a few seconds instead of a hang.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from coc_ros.engine.lmulator_protocol import SimReply, SimRequest
from coc_ros.core.types import Canceled, SimulationError
from coc_ros.llm.base import Completion, LLMError, Message
from coc_ros.nodes import common
from coc_ros.robot.backend import Detection, SkillError


class ServiceUnavailable(Exception):
    """The server is not there, went away during the call or did not answer in time."""


class HeartbeatMonitor:
    """Remembers when a server's heartbeat was last seen."""

    def __init__(self, node: Any, topic: str, callback_group: Any = None):
        from std_msgs.msg import Header  # noqa: PLC0415

        self.last_seen: float | None = None
        self._sub = node.create_subscription(Header, topic, self._on_beat, 5, callback_group=callback_group)

    def _on_beat(self, _msg: Any) -> None:
        self.last_seen = time.monotonic()

    def stale(self, dead_after_s: float, since: float | None = None) -> bool:
        """True when beats were seen but none for dead_after_s (a server without heartbeat is never stale).
        `since` starts the silence no earlier than that moment: a call to a just-restarted server gets the full
        window for the new server's beats to be discovered, instead of being judged by its predecessor's."""
        if self.last_seen is None:
            return False
        return time.monotonic() - max(self.last_seen, since or self.last_seen) > dead_after_s


class ServiceCaller:
    """One service client with availability checks, a timeout, cancel and dead-server detection."""

    def __init__(self, node: Any, srv_type: Any, name: str, *, what: str, callback_group: Any = None,
                 heartbeat: HeartbeatMonitor | None = None, wait_s: float = 10.0, timeout_s: float = 120.0,
                 dead_after_s: float = 3.0):
        self.node = node
        self.name = name
        self.what = what
        self.client = node.create_client(srv_type, name, callback_group=callback_group)
        self.heartbeat = heartbeat
        self.wait_s = wait_s
        self.timeout_s = timeout_s
        self.dead_after_s = dead_after_s

    def call(self, request: Any, *, timeout_s: float | None = None, wait_s: float | None = None,
             cancel: threading.Event | None = None) -> Any:
        wait_s = self.wait_s if wait_s is None else wait_s
        if self.heartbeat is not None and self.heartbeat.stale(self.dead_after_s):
            # The last instance died; give a restarted one the usual time to appear and beat again.
            deadline = time.monotonic() + wait_s
            while self.heartbeat.stale(self.dead_after_s) and time.monotonic() < deadline:
                if cancel is not None and cancel.is_set():
                    raise Canceled("canceled")
                time.sleep(0.05)
            if self.heartbeat.stale(self.dead_after_s):
                raise ServiceUnavailable(f"{self.what} unavailable: no heartbeat for "
                                         f"{time.monotonic() - self.heartbeat.last_seen:.1f} s (process died?)")
        if not self.client.wait_for_service(timeout_sec=wait_s):
            raise ServiceUnavailable(f"{self.what} unavailable: service {self.name} not found within {wait_s:g} s")
        done = threading.Event()
        future = self.client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        start = time.monotonic()
        next_check = start + 0.25
        while not done.wait(0.02):
            now = time.monotonic()
            reason = None
            if cancel is not None and cancel.is_set():
                self._drop(future)
                raise Canceled("canceled")
            if now - start > timeout_s:
                reason = f"{self.what} did not answer {self.name} within {timeout_s:g} s"
            elif now >= next_check:
                next_check = now + 0.25
                if not self.client.service_is_ready():
                    reason = f"{self.what} unavailable: it went away during the call to {self.name}"
                elif self.heartbeat is not None and self.heartbeat.stale(self.dead_after_s, since=start):
                    reason = (f"{self.what} unavailable: it stopped responding during the call to {self.name} "
                              f"(no heartbeat for {self.dead_after_s:g} s; process died?)")
            if reason:
                self._drop(future)
                raise ServiceUnavailable(reason)
        result = future.result()
        if result is None:
            raise ServiceUnavailable(f"{self.what} returned no response for {self.name}")
        return result

    def _drop(self, future: Any) -> None:
        try:
            self.client.remove_pending_request(future)
        except Exception:  # noqa: BLE001 - best effort
            pass
        future.cancel()


def _group(node: Any) -> Any:
    from rclpy.callback_groups import ReentrantCallbackGroup  # noqa: PLC0415

    return ReentrantCallbackGroup()


class _LmulatorService:
    """One of the lmulator node's services, watched through the node's heartbeat (shared by both clients)."""

    def __init__(self, node: Any, srv_type: Any, service: str, *, wait_s: float = 10.0, timeout_s: float = 600.0,
                 dead_after_s: float = 3.0, heartbeat: HeartbeatMonitor | None = None, callback_group: Any = None):
        self._srv = srv_type
        group = callback_group or _group(node)
        self.heartbeat = heartbeat or HeartbeatMonitor(node, common.LM_HEARTBEAT, group)
        self.caller = ServiceCaller(node, srv_type, service, what="lmulator node", callback_group=group,
                                    heartbeat=self.heartbeat, wait_s=wait_s, timeout_s=timeout_s,
                                    dead_after_s=dead_after_s)
        self.cancel_event: threading.Event | None = None


class RosLLMClient(_LmulatorService):
    """LLMClient over /coc/lmulator/complete: the model lives only in the lmulator process."""

    name = "ros:lmulator"

    def __init__(self, node: Any, **options: Any):
        from coc_ros.srv import Complete  # noqa: PLC0415

        super().__init__(node, Complete, common.LM_COMPLETE, **options)
        self.run_id = ""

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        req = self._srv.Request(run_id=self.run_id, messages_json=json.dumps(messages),
                                stop_json=json.dumps(stop or []), max_tokens=int(max_tokens))
        start = time.monotonic()
        try:
            resp = self.caller.call(req, cancel=self.cancel_event)
        except ServiceUnavailable as exc:
            raise LLMError(str(exc)) from None
        if not resp.success:
            raise LLMError(resp.error or "lmulator node: completion failed")
        return Completion(text=resp.text, prompt_tokens=resp.prompt_tokens, completion_tokens=resp.completion_tokens,
                          seconds=time.monotonic() - start)


class RosSimulator(_LmulatorService):
    """LMulatorProtocol over /coc/lmulator/simulate."""

    def __init__(self, node: Any, **options: Any):
        from coc_ros.srv import Simulate  # noqa: PLC0415

        super().__init__(node, Simulate, common.LM_SIMULATE, **options)

    def simulate(self, request: SimRequest) -> SimReply:
        req = self._srv.Request(run_id=request.run_id, question=request.question, program=request.program,
                                line=int(request.line), source=request.source, kind=request.kind,
                                expression=request.expression, state_json=json.dumps(request.state, default=str))
        try:
            resp = self.caller.call(req, cancel=self.cancel_event)
        except ServiceUnavailable as exc:
            raise SimulationError(str(exc)) from None
        if not resp.success:
            raise SimulationError(resp.error or "lmulator node: simulation failed")
        return SimReply(value=resp.value, prompt_tokens=resp.prompt_tokens, completion_tokens=resp.completion_tokens,
                        raw=resp.value, prompt_id=resp.prompt_id, reply_id=resp.reply_id)


def _pose(position: Any) -> Any:
    from geometry_msgs.msg import Pose  # noqa: PLC0415

    p = Pose()
    p.position.x, p.position.y, p.position.z = (float(c) for c in position)
    p.orientation.w = 1.0
    return p


class RosSkillBackend:
    """SkillBackend over the skill_server's services; failures keep their SkillError codes."""

    def __init__(self, node: Any, *, wait_s: float = 10.0, timeout_s: float = 300.0, dead_after_s: float = 3.0,
                 callback_group: Any = None):
        from coc_ros.srv import DetectObjects, GetWorld, MoveTo, PickPlace, StopMotion  # noqa: PLC0415

        self._srv = {"detect": DetectObjects, "pick_place": PickPlace, "move_to": MoveTo, "stop": StopMotion,
                     "world": GetWorld}
        group = callback_group or _group(node)
        self.heartbeat = HeartbeatMonitor(node, common.SKILL_HEARTBEAT, group)
        kw = dict(what="skill_server node", callback_group=group, heartbeat=self.heartbeat, wait_s=wait_s,
                  timeout_s=timeout_s, dead_after_s=dead_after_s)
        self._callers = {
            "detect": ServiceCaller(node, DetectObjects, common.SKILL_DETECT, **kw),
            "pick_place": ServiceCaller(node, PickPlace, common.SKILL_PICK_PLACE, **kw),
            "move_to": ServiceCaller(node, MoveTo, common.SKILL_MOVE_TO, **kw),
            "stop": ServiceCaller(node, StopMotion, common.SKILL_STOP, **kw),
            "world": ServiceCaller(node, GetWorld, common.SKILL_GET_WORLD, **kw),
        }
        self.cancel_event: threading.Event | None = None
        self._places: list[str] | None = None

    def _call(self, key: str, request: Any, *, timeout_s: float | None = None, wait_s: float | None = None,
              cancel: bool = True) -> Any:
        try:
            return self._callers[key].call(request, timeout_s=timeout_s, wait_s=wait_s,
                                           cancel=self.cancel_event if cancel else None)
        except ServiceUnavailable as exc:
            raise SkillError("backend", str(exc)) from None
        except Canceled:
            raise SkillError("canceled", "the goal was canceled") from None

    def detect_objects(self, query: str = "") -> list[Detection]:
        resp = self._call("detect", self._srv["detect"].Request(query=str(query or "")))
        if not resp.success:
            raise SkillError("backend", resp.error or "detect_objects failed")
        return [Detection(id=d.id, class_id=d.class_id, score=d.score,
                          position=(d.pose.position.x, d.pose.position.y, d.pose.position.z),
                          size=(d.size.x, d.size.y, d.size.z), color=d.color) for d in resp.detections]

    def pick_place(self, obj: str, target: str, velocity_scaling: float = 0.5) -> dict[str, Any]:
        resp = self._call("pick_place", self._srv["pick_place"].Request(
            object=str(obj), target=str(target), velocity_scaling=float(velocity_scaling)))
        if not resp.success:
            raise SkillError(resp.error_code or "backend", resp.error or "pick_place failed")
        try:
            return json.loads(resp.detail_json) if resp.detail_json else {}
        except json.JSONDecodeError:
            return {"detail": resp.detail_json}

    def move_to(self, position: tuple[float, float, float], velocity_scaling: float = 0.5) -> None:
        try:
            pose = _pose(position)
        except (TypeError, ValueError):
            raise SkillError("invalid_argument", f"position must be three numbers, got {position!r}") from None
        resp = self._call("move_to", self._srv["move_to"].Request(pose=pose, velocity_scaling=float(velocity_scaling)))
        if not resp.success:
            raise SkillError(resp.error_code or "backend", resp.error or "move_to failed")

    def stop(self) -> None:
        """Best effort and quick: cancel must not hang on a dead skill server."""
        try:
            self._call("stop", self._srv["stop"].Request(), timeout_s=2.0, wait_s=0.5, cancel=False)
        except SkillError:
            pass

    def world_state(self) -> dict[str, str]:
        return self.get_world()

    def places(self) -> list[str]:
        """Containers/locations the skill server's backend accepts as pick_place targets (cached)."""
        if self._places is None:
            resp = self._call("world", self._srv["world"].Request(), cancel=False)
            self._places = list(json.loads(resp.places_json or "[]")) if resp.success else []
        return self._places

    def get_world(self, image_path: str = "", *, timeout_s: float | None = None,
                  wait_s: float | None = None) -> dict[str, str]:
        resp = self._call("world", self._srv["world"].Request(image_path=str(image_path)), timeout_s=timeout_s,
                          wait_s=wait_s, cancel=False)
        if not resp.success:
            raise SkillError("backend", resp.error or "get_world failed")
        return json.loads(resp.world_json or "{}")

    def render(self, path: str) -> str:
        self.get_world(str(path))
        return str(path)
