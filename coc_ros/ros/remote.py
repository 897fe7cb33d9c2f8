"""The engine's collaborators when they live in other processes: LLM (Complete), LMulatorProtocol (Simulate) and
SkillBackend (skill services), each over coc_ros.ros.service_call.

These are coc_server's service callers (the CLI's action client is coc_ros.ros.goal_client). All calls are made
from a worker thread of the node's MultiThreadedExecutor, never spinning themselves; `cancel_event` (set by
coc_server when a goal is canceled) stops the call in flight.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from geometry_msgs.msg import Pose
from rclpy.callback_groups import CallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node

from coc_ros.core.types import Canceled, SimulationError
from coc_ros.engine.lmulator_protocol import SimReply, SimRequest
from coc_ros.llm.base import Completion, LLMError, Message
from coc_ros.robot.backend import Detection, SkillError
from coc_ros.ros import names
from coc_ros.ros.heartbeat import HeartbeatMonitor
from coc_ros.ros.service_call import ServiceCaller, ServiceUnavailable
from coc_ros.srv import Complete, DetectObjects, GetWorld, MoveTo, PickPlace, Simulate, StopMotion


class RemoteLLM:
    """LLMClient over /coc/lmulator/complete: the model lives only in the lmulator process."""

    name = "ros:lmulator"

    def __init__(self, caller: ServiceCaller):
        self.caller = caller
        self.run_id = ""
        self.cancel_event: threading.Event | None = None

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        req = Complete.Request(run_id=self.run_id, messages_json=json.dumps(messages),
                               stop_json=json.dumps(stop or []), max_tokens=int(max_tokens))
        start = time.monotonic()
        try:
            resp = self.caller.call(req, cancel=self.cancel_event)
        except ServiceUnavailable as exc:
            raise LLMError(str(exc)) from None
        if not resp.success:
            raise LLMError(resp.error or "lmulator node: completion failed")
        return Completion(text=resp.text, prompt_tokens=resp.prompt_tokens, completion_tokens=resp.completion_tokens,
                          seconds=time.monotonic() - start, cached_tokens=resp.cached_tokens,
                          prefill_s=resp.prefill_s, generation_s=resp.generation_s)


class RemoteLMulator:
    """LMulatorProtocol over /coc/lmulator/simulate. `answered` counts the successful responses since the caller
    last reset it: the lmulator publishes one state message per such response, and the recorder checks a run's bag
    against that count (coc_server puts it in the run_end event)."""

    def __init__(self, caller: ServiceCaller):
        self.caller = caller
        self.cancel_event: threading.Event | None = None
        self.answered = 0

    def simulate(self, request: SimRequest) -> SimReply:
        req = Simulate.Request(run_id=request.run_id, question=request.question, program=request.program,
                               line=int(request.line), source=request.source, kind=request.kind,
                               expression=request.expression, state_json=json.dumps(request.state, default=str),
                               hints_json=json.dumps(request.hints, default=str))
        try:
            resp = self.caller.call(req, cancel=self.cancel_event)
        except ServiceUnavailable as exc:
            raise SimulationError(str(exc)) from None
        if not resp.success:
            raise SimulationError(resp.error or "lmulator node: simulation failed")
        self.answered += 1
        return SimReply(value=resp.value, prompt_tokens=resp.prompt_tokens, completion_tokens=resp.completion_tokens,
                        raw=resp.value, prompt_id=resp.prompt_id, reply_id=resp.reply_id,
                        detail=json.loads(resp.detail_json or "{}"))


def lmulator_clients(node: Node, *, wait_s: float, timeout_s: float, dead_after_s: float,
                     callback_group: CallbackGroup | None = None) -> tuple[RemoteLLM, RemoteLMulator]:
    """Both lmulator services, watched through one heartbeat subscription. Repeat-safe: the lmulator answers an
    identical repeated request from its replay cache, so a lost response may be asked for again."""
    group = callback_group or ReentrantCallbackGroup()
    beat = HeartbeatMonitor(node, names.LM_HEARTBEAT, group, what="lmulator node")
    options = dict(what="lmulator node", callback_group=group, heartbeat=beat, wait_s=wait_s, timeout_s=timeout_s,
                   dead_after_s=dead_after_s, repeat_safe=True)
    return (RemoteLLM(ServiceCaller(node, Complete, names.LM_COMPLETE, **options)),
            RemoteLMulator(ServiceCaller(node, Simulate, names.LM_SIMULATE, **options)))


def _pose(position: tuple[float, float, float]) -> Pose:
    p = Pose()
    p.position.x, p.position.y, p.position.z = (float(c) for c in position)
    p.orientation.w = 1.0
    return p


class RemoteSkills:
    """SkillBackend over the skill_server's services; failures keep their SkillError codes.

    Motions are not repeat-safe (a lost pick_place response is an error, never a second motion); reads
    (detect_objects, get_world) and stop are. The accepted targets are cached per skill_server instance, so a
    restarted server with another scene is asked again.
    """

    def __init__(self, node: Node, *, wait_s: float = 10.0, timeout_s: float = 300.0, dead_after_s: float = 3.0,
                 callback_group: CallbackGroup | None = None):
        group = callback_group or ReentrantCallbackGroup()
        self.heartbeat = HeartbeatMonitor(node, names.SKILL_HEARTBEAT, group, what="skill_server node")

        def caller(srv_type: Any, name: str, repeat_safe: bool) -> ServiceCaller:
            return ServiceCaller(node, srv_type, name, what="skill_server node", callback_group=group,
                                 heartbeat=self.heartbeat, wait_s=wait_s, timeout_s=timeout_s,
                                 dead_after_s=dead_after_s, lost_after_s=1.5 if repeat_safe else 4.0,
                                 repeat_safe=repeat_safe)

        self._detect = caller(DetectObjects, names.SKILL_DETECT, True)
        self._pick_place = caller(PickPlace, names.SKILL_PICK_PLACE, False)
        self._move_to = caller(MoveTo, names.SKILL_MOVE_TO, False)
        self._stop = caller(StopMotion, names.SKILL_STOP, True)
        self._world = caller(GetWorld, names.SKILL_GET_WORLD, True)
        self.cancel_event: threading.Event | None = None
        self._places: tuple[str, tuple[list[str], dict[str, str]]] | None = None  # (instance, (targets, colours))

    def _call(self, caller: ServiceCaller, request: Any, *, timeout_s: float | None = None,
              wait_s: float | None = None, cancel: bool = True) -> Any:
        try:
            return caller.call(request, timeout_s=timeout_s, wait_s=wait_s,
                               cancel=self.cancel_event if cancel else None)
        except ServiceUnavailable as exc:
            raise SkillError("backend", str(exc)) from None
        except Canceled:
            raise SkillError("canceled", "the goal was canceled") from None

    def detect_objects(self, query: str = "") -> list[Detection]:
        resp = self._call(self._detect, DetectObjects.Request(query=str(query or "")))
        if not resp.success:
            raise SkillError("backend", resp.error or "detect_objects failed")
        return [Detection(id=d.id, class_id=d.class_id, score=d.score,
                          position=(d.pose.position.x, d.pose.position.y, d.pose.position.z),
                          size=(d.size.x, d.size.y, d.size.z), color=d.color) for d in resp.detections]

    def pick_place(self, obj: str, target: str, velocity_scaling: float = 0.5) -> dict[str, Any]:
        resp = self._call(self._pick_place, PickPlace.Request(object=str(obj), target=str(target),
                                                              velocity_scaling=float(velocity_scaling)))
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
        resp = self._call(self._move_to, MoveTo.Request(pose=pose, velocity_scaling=float(velocity_scaling)))
        if not resp.success:
            raise SkillError(resp.error_code or "backend", resp.error or "move_to failed")

    def stop(self) -> None:
        """Best effort and quick: cancel must not hang on a dead skill server."""
        try:
            self._call(self._stop, StopMotion.Request(), timeout_s=2.0, wait_s=0.5, cancel=False)
        except SkillError:
            pass

    def world_state(self) -> dict[str, str]:
        return self.get_world()

    def places(self) -> list[str]:
        """Containers/locations the skill server's backend accepts as pick_place targets."""
        return list(self._place_info()[0])

    def place_colors(self) -> dict[str, str]:
        """Place -> colour name as the skill server's backend knows them (empty where it knows none)."""
        return dict(self._place_info()[1])

    def _place_info(self) -> tuple[list[str], dict[str, str]]:
        """Places and their colours, asked once per skill-server instance (a restarted server may differ)."""
        beat = self.heartbeat.latest
        instance = beat.instance if beat is not None else ""
        if self._places is None or self._places[0] != instance:
            resp = self._call(self._world, GetWorld.Request(), cancel=False)
            info = ((list(json.loads(resp.places_json or "[]")), dict(json.loads(resp.place_colors_json or "{}")))
                    if resp.success else ([], {}))
            self._places = (instance, info)
        return self._places[1]

    def get_world(self, image_path: str = "", *, timeout_s: float | None = None,
                  wait_s: float | None = None) -> dict[str, str]:
        resp = self._call(self._world, GetWorld.Request(image_path=str(image_path)), timeout_s=timeout_s,
                          wait_s=wait_s, cancel=False)
        if not resp.success:
            raise SkillError("backend", resp.error or "get_world failed")
        return json.loads(resp.world_json or "{}")

    def render(self, path: str) -> str:
        self.get_world(str(path))
        return str(path)
