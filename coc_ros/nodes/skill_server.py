"""`skill_server` node: the robot's skills as services over one SkillBackend.

Services (coc_ros/srv): /coc/skills/detect_objects (DetectObjects), /coc/skills/pick_place (PickPlace),
/coc/skills/move_to (MoveTo), /coc/skills/stop (StopMotion), /coc/skills/get_world (GetWorld; renders a PNG when
image_path is set and the backend can render).
Topics: /coc/skill_calls (coc_ros/msg/SkillCall, one per call), /coc/skills/heartbeat (std_msgs/String,
coc_ros.ros.heartbeat).

Parameters: backend ("sim": MuJoCo world of coc_ros.sim; "moveit": MoveIt 2 via moveit_py, needs a full ROS 2
install; "fake": in-memory, for tests), scene, seed, perception ("camera" | "ground_truth"), fake_motion_s,
moveit_options (JSON object of MoveItSkillBackend keyword arguments).
Requests run on a multi-threaded executor so that stop arrives while a motion runs; the backend itself rejects
a second concurrent motion.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import rclpy
from geometry_msgs.msg import Vector3
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from coc_ros.msg import Detection as DetectionMsg
from coc_ros.msg import SkillCall
from coc_ros.robot.api import backend_place_colors, backend_places, check_velocity_scaling
from coc_ros.robot.backend import SkillBackend, SkillError
from coc_ros.ros import names
from coc_ros.ros.heartbeat import HeartbeatPublisher
from coc_ros.ros.messages import stamp_msg
from coc_ros.ros.qos import history_qos
from coc_ros.ros.spin import spin
from coc_ros.srv import DetectObjects, GetWorld, MoveTo, PickPlace, StopMotion


def make_backend(kind: str, *, scene: str = "blocks", seed: int = 0, perception: str = "camera",
                 fake_motion_s: float = 0.2, moveit_options: dict[str, Any] | None = None) -> SkillBackend:
    """Build the SkillBackend named by `kind`. Imported here, not at the top: each backend pulls in a heavy
    optional stack (MuJoCo, moveit_py) that the other backends must not need."""
    if kind == "sim":
        from coc_ros.sim.backend import SimSkillBackend

        return SimSkillBackend(scene=scene, seed=seed, perception=perception)
    if kind == "moveit":
        from coc_ros.robot.moveit_backend import MoveItSkillBackend

        return MoveItSkillBackend(**(moveit_options or {}))
    if kind == "fake":
        from coc_ros.robot.fake_backend import FakeSkillBackend

        return FakeSkillBackend(motion_s=fake_motion_s)
    raise ValueError(f"unknown skill backend {kind!r}: use sim, moveit or fake")


class SkillServer(Node):
    """One service per skill over one backend; every call is also published on /coc/skill_calls."""

    def __init__(self) -> None:
        super().__init__("skill_server")
        self.backend_kind: str = self.declare_parameter("backend", "sim").value
        self.scene: str = self.declare_parameter("scene", "blocks").value
        self.seed: int = self.declare_parameter("seed", 0).value
        self.perception: str = self.declare_parameter("perception", "camera").value
        self.fake_motion_s: float = self.declare_parameter("fake_motion_s", 0.2).value
        moveit_json: str = self.declare_parameter("moveit_options", "{}").value
        try:
            moveit_options = json.loads(moveit_json or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"parameter moveit_options is not JSON: {exc}") from None
        start = time.monotonic()
        self.backend = make_backend(self.backend_kind, scene=self.scene, seed=self.seed,
                                    perception=self.perception, fake_motion_s=self.fake_motion_s,
                                    moveit_options=moveit_options)
        self.calls_pub = self.create_publisher(SkillCall, names.SKILL_CALLS, history_qos())
        group = ReentrantCallbackGroup()  # stop must get through while a motion runs
        self.create_service(DetectObjects, names.SKILL_DETECT, self.on_detect, callback_group=group)
        self.create_service(PickPlace, names.SKILL_PICK_PLACE, self.on_pick_place, callback_group=group)
        self.create_service(MoveTo, names.SKILL_MOVE_TO, self.on_move_to, callback_group=group)
        self.create_service(StopMotion, names.SKILL_STOP, self.on_stop, callback_group=group)
        self.create_service(GetWorld, names.SKILL_GET_WORLD, self.on_get_world, callback_group=group)
        self.heartbeat = HeartbeatPublisher(self, names.SKILL_HEARTBEAT)
        self.get_logger().info(f"skill_server ready (backend={self.backend_kind}, scene={self.scene}, "
                               f"{time.monotonic() - start:.1f} s to load, instance {self.heartbeat.instance})")

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()

    def _record(self, skill: str, request: dict[str, Any], response: dict[str, Any], ok: bool, t0: float) -> None:
        self.calls_pub.publish(SkillCall(stamp=stamp_msg(), skill=skill, request_json=json.dumps(request, default=str),
                                         response_json=json.dumps(response, default=str), success=ok,
                                         duration=time.monotonic() - t0))

    def on_detect(self, req: DetectObjects.Request, resp: DetectObjects.Response) -> DetectObjects.Response:
        with self.heartbeat.serving():
            t0 = time.monotonic()
            try:
                dets = self.backend.detect_objects(req.query)
            except Exception as exc:  # a backend failure is an answer, never a dead service
                resp.success, resp.error = False, str(exc)
                self._record("detect_objects", {"query": req.query}, {"error": resp.error}, False, t0)
                return resp
            resp.success = True
            resp.header.stamp = stamp_msg()
            resp.header.frame_id = "base"
            for d in dets:
                m = DetectionMsg(id=d.id, class_id=d.class_id, score=float(d.score), color=d.color or "",
                                 size=Vector3(x=float(d.size[0]), y=float(d.size[1]), z=float(d.size[2])))
                m.pose.position.x, m.pose.position.y, m.pose.position.z = (float(c) for c in d.position)
                m.pose.orientation.w = 1.0
                resp.detections.append(m)
            self._record("detect_objects", {"query": req.query}, {"detections": [d.id for d in dets]}, True, t0)
            return resp

    def on_pick_place(self, req: PickPlace.Request, resp: PickPlace.Response) -> PickPlace.Response:
        with self.heartbeat.serving():
            t0 = time.monotonic()
            request = {"object": req.object, "target": req.target, "velocity_scaling": req.velocity_scaling}
            try:
                v = check_velocity_scaling(req.velocity_scaling)
                if not req.object or not req.target:
                    raise SkillError("invalid_argument", "object and target must be non-empty names")
                detail = self.backend.pick_place(req.object, req.target, v)
            except SkillError as exc:
                resp.success, resp.error_code, resp.error = False, exc.code, exc.message
            except Exception as exc:  # a backend bug is still an answer, never a dead service
                resp.success, resp.error_code, resp.error = False, "backend", f"{type(exc).__name__}: {exc}"
            else:
                resp.success = True
                resp.detail_json = json.dumps(detail or {}, default=str)
            self._record("pick_place", request, {"error_code": resp.error_code, "error": resp.error,
                                                 "detail": resp.detail_json}, resp.success, t0)
            return resp

    def on_move_to(self, req: MoveTo.Request, resp: MoveTo.Response) -> MoveTo.Response:
        with self.heartbeat.serving():
            t0 = time.monotonic()
            pos = (req.pose.position.x, req.pose.position.y, req.pose.position.z)
            request = {"position": pos, "velocity_scaling": req.velocity_scaling}
            try:
                v = check_velocity_scaling(req.velocity_scaling)
                self.backend.move_to(pos, v)
            except SkillError as exc:
                resp.success, resp.error_code, resp.error = False, exc.code, exc.message
            except Exception as exc:  # a backend bug is still an answer
                resp.success, resp.error_code, resp.error = False, "backend", f"{type(exc).__name__}: {exc}"
            else:
                resp.success = True
            self._record("move_to", request, {"error_code": resp.error_code, "error": resp.error}, resp.success, t0)
            return resp

    def on_stop(self, _req: StopMotion.Request, resp: StopMotion.Response) -> StopMotion.Response:
        with self.heartbeat.serving():
            t0 = time.monotonic()
            try:
                self.backend.stop()
                resp.success, resp.message = True, "stopped"
            except Exception as exc:  # a backend failure is an answer
                resp.success, resp.message = False, str(exc)
            self._record("stop", {}, {"message": resp.message}, resp.success, t0)
            return resp

    def on_get_world(self, req: GetWorld.Request, resp: GetWorld.Response) -> GetWorld.Response:
        with self.heartbeat.serving():
            try:
                resp.world_json = json.dumps(self.backend.world_state())
                resp.places_json = json.dumps(backend_places(self.backend))
                resp.place_colors_json = json.dumps(backend_place_colors(self.backend))
                if req.image_path:
                    render = getattr(self.backend, "render", None)
                    if not callable(render):
                        raise RuntimeError("this backend cannot render images")
                    Path(req.image_path).parent.mkdir(parents=True, exist_ok=True)
                    render(req.image_path)
                resp.success = True
            except Exception as exc:  # a backend failure is an answer
                resp.success, resp.error = False, f"{type(exc).__name__}: {exc}"
            return resp


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    raise SystemExit(spin(SkillServer, MultiThreadedExecutor(num_threads=4), "skill_server"))


if __name__ == "__main__":
    main()
