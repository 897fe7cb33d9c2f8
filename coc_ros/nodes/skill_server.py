"""`skill_server` node: the robot's skills as services over one SkillBackend.

Services (coc_ros/srv): /coc/skills/detect_objects (DetectObjects), /coc/skills/pick_place (PickPlace),
/coc/skills/move_to (MoveTo), /coc/skills/stop (StopMotion), /coc/skills/get_world (GetWorld; renders a PNG when
image_path is set and the backend can render).
Topics: /coc/skill_calls (coc_ros/msg/SkillCall, one per call), /coc/skills/heartbeat (std_msgs/Header).

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

from coc_ros.nodes import common
from coc_ros.robot.api import backend_places, check_velocity_scaling
from coc_ros.robot.backend import SkillError


def make_backend(kind: str, *, scene: str = "blocks", seed: int = 0, perception: str = "camera",
                 fake_motion_s: float = 0.2, moveit_options: dict[str, Any] | None = None) -> Any:
    """Build the SkillBackend named by `kind`; a missing optional dependency is a clear RuntimeError."""
    if kind == "sim":
        from coc_ros.sim.backend import SimSkillBackend  # noqa: PLC0415

        return SimSkillBackend(scene=scene, seed=seed, perception=perception)
    if kind == "moveit":
        from coc_ros.nodes.moveit_backend import MoveItSkillBackend  # noqa: PLC0415

        return MoveItSkillBackend(**(moveit_options or {}))
    if kind == "fake":
        from coc_ros.nodes.fake_backend import FakeSkillBackend  # noqa: PLC0415

        return FakeSkillBackend(motion_s=fake_motion_s)
    raise ValueError(f"unknown skill backend {kind!r}: use sim, moveit or fake")


def _make_node() -> Any:
    from geometry_msgs.msg import Vector3  # noqa: PLC0415
    from rclpy.callback_groups import ReentrantCallbackGroup  # noqa: PLC0415
    from rclpy.node import Node  # noqa: PLC0415

    from coc_ros.msg import Detection as DetectionMsg  # noqa: PLC0415
    from coc_ros.msg import SkillCall  # noqa: PLC0415
    from coc_ros.srv import DetectObjects, GetWorld, MoveTo, PickPlace, StopMotion  # noqa: PLC0415

    class SkillServer(Node):
        def __init__(self) -> None:
            super().__init__("skill_server")
            self.declare_parameter("backend", "sim")
            self.declare_parameter("scene", "blocks")
            self.declare_parameter("seed", 0)
            self.declare_parameter("perception", "camera")
            self.declare_parameter("fake_motion_s", 0.2)
            self.declare_parameter("moveit_options", "{}")
            p = {n: self.get_parameter(n).value for n in
                 ("backend", "scene", "seed", "perception", "fake_motion_s", "moveit_options")}
            try:
                moveit_options = json.loads(p["moveit_options"] or "{}")
            except json.JSONDecodeError as exc:
                raise ValueError(f"parameter moveit_options is not JSON: {exc}") from None
            start = time.monotonic()
            self.backend = make_backend(p["backend"], scene=p["scene"], seed=int(p["seed"]),
                                        perception=p["perception"], fake_motion_s=float(p["fake_motion_s"]),
                                        moveit_options=moveit_options)
            self.calls_pub = self.create_publisher(SkillCall, common.SKILL_CALLS, common.history_qos())
            group = ReentrantCallbackGroup()
            self.create_service(DetectObjects, common.SKILL_DETECT, self._detect, callback_group=group)
            self.create_service(PickPlace, common.SKILL_PICK_PLACE, self._pick_place, callback_group=group)
            self.create_service(MoveTo, common.SKILL_MOVE_TO, self._move_to, callback_group=group)
            self.create_service(StopMotion, common.SKILL_STOP, self._stop, callback_group=group)
            self.create_service(GetWorld, common.SKILL_GET_WORLD, self._get_world, callback_group=group)
            self.heartbeat = common.HeartbeatPublisher(self, common.SKILL_HEARTBEAT)
            self.get_logger().info(f"skill_server ready (backend={p['backend']}, scene={p['scene']}, "
                                   f"{time.monotonic() - start:.1f} s to load)")

        def close(self) -> None:
            close = getattr(self.backend, "close", None)
            if callable(close):
                close()

        def _record(self, skill: str, request: dict[str, Any], response: dict[str, Any], ok: bool, t0: float) -> None:
            self.calls_pub.publish(SkillCall(stamp=common.stamp_msg(), skill=skill,
                                             request_json=json.dumps(request, default=str),
                                             response_json=json.dumps(response, default=str), success=ok,
                                             duration=time.monotonic() - t0))

        def _detect(self, req: Any, resp: Any) -> Any:
            t0 = time.monotonic()
            try:
                dets = self.backend.detect_objects(req.query)
            except Exception as exc:  # noqa: BLE001
                resp.success, resp.error = False, str(exc)
                self._record("detect_objects", {"query": req.query}, {"error": resp.error}, False, t0)
                return resp
            resp.success = True
            resp.header.stamp = common.stamp_msg()
            resp.header.frame_id = "base"
            for d in dets:
                m = DetectionMsg(id=d.id, class_id=d.class_id, score=float(d.score), color=d.color or "",
                                 size=Vector3(x=float(d.size[0]), y=float(d.size[1]), z=float(d.size[2])))
                m.pose.position.x, m.pose.position.y, m.pose.position.z = (float(c) for c in d.position)
                m.pose.orientation.w = 1.0
                resp.detections.append(m)
            self._record("detect_objects", {"query": req.query}, {"detections": [d.id for d in dets]}, True, t0)
            return resp

        def _pick_place(self, req: Any, resp: Any) -> Any:
            t0 = time.monotonic()
            request = {"object": req.object, "target": req.target, "velocity_scaling": req.velocity_scaling}
            try:
                v = check_velocity_scaling(req.velocity_scaling)
                if not req.object or not req.target:
                    raise SkillError("invalid_argument", "object and target must be non-empty names")
                detail = self.backend.pick_place(req.object, req.target, v)
            except SkillError as exc:
                resp.success, resp.error_code, resp.error = False, exc.code, exc.message
            except Exception as exc:  # noqa: BLE001 - a backend bug is still an answer, never a dead service
                resp.success, resp.error_code, resp.error = False, "backend", f"{type(exc).__name__}: {exc}"
            else:
                resp.success = True
                resp.detail_json = json.dumps(detail or {}, default=str)
            self._record("pick_place", request, {"error_code": resp.error_code, "error": resp.error,
                                                 "detail": resp.detail_json}, resp.success, t0)
            return resp

        def _move_to(self, req: Any, resp: Any) -> Any:
            t0 = time.monotonic()
            pos = (req.pose.position.x, req.pose.position.y, req.pose.position.z)
            request = {"position": pos, "velocity_scaling": req.velocity_scaling}
            try:
                v = check_velocity_scaling(req.velocity_scaling)
                self.backend.move_to(pos, v)
            except SkillError as exc:
                resp.success, resp.error_code, resp.error = False, exc.code, exc.message
            except Exception as exc:  # noqa: BLE001
                resp.success, resp.error_code, resp.error = False, "backend", f"{type(exc).__name__}: {exc}"
            else:
                resp.success = True
            self._record("move_to", request, {"error_code": resp.error_code, "error": resp.error}, resp.success, t0)
            return resp

        def _stop(self, _req: Any, resp: Any) -> Any:
            t0 = time.monotonic()
            try:
                self.backend.stop()
                resp.success, resp.message = True, "stopped"
            except Exception as exc:  # noqa: BLE001
                resp.success, resp.message = False, str(exc)
            self._record("stop", {}, {"message": resp.message}, resp.success, t0)
            return resp

        def _get_world(self, req: Any, resp: Any) -> Any:
            try:
                resp.world_json = json.dumps(self.backend.world_state())
                resp.places_json = json.dumps(backend_places(self.backend))
                if req.image_path:
                    render = getattr(self.backend, "render", None)
                    if not callable(render):
                        raise RuntimeError("this backend cannot render images")
                    Path(req.image_path).parent.mkdir(parents=True, exist_ok=True)
                    render(req.image_path)
                resp.success = True
            except Exception as exc:  # noqa: BLE001
                resp.success, resp.error = False, f"{type(exc).__name__}: {exc}"
            return resp

    return SkillServer()


def main(args: list[str] | None = None) -> None:
    raise SystemExit(common.run_node(_make_node, threads=4, args=args, name="skill_server"))


if __name__ == "__main__":
    main()
