"""SimSkillBackend: the embedded MuJoCo world behind the robot API's SkillBackend protocol."""
from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from coc_ros.robot.api import check_velocity_scaling
from coc_ros.robot.backend import Detection, SkillError
from coc_ros.sim.camera import Camera
from coc_ros.sim.perception import ObjectEstimate, make_detector
from coc_ros.sim.scene import Scene
from coc_ros.sim.skills import Skills
from coc_ros.sim.world import SimWorld


class SimSkillBackend:
    """Franka Panda + 2F-85 in MuJoCo; perception from the top camera ('camera') or segmentation ('ground_truth').

    Thread-safety: the world's lock guards MjData; `_motion` lets one motion run at a time (a second concurrent
    request is 'rejected'); `stop()` only sets an Event the running motion polls every 10 ms of simulated time.
    """

    def __init__(self, scene: str | Scene = "sort", seed: int = 0, perception: str = "camera",
                 width: int = 640, height: int = 480):
        if perception not in ("camera", "ground_truth"):
            raise ValueError(f"perception must be 'camera' or 'ground_truth', got {perception!r}")
        self.world = SimWorld(scene, seed)
        self.scene = self.world.scene
        self.perception = perception
        self.camera = Camera(self.world.model, width, height)
        self.detector = make_detector(perception, self.scene, self.camera, self.world.geom_object)
        self.skills = Skills(self.world)
        self._motion = threading.Lock()

    # -- perception ------------------------------------------------------------------------------------------

    def _estimates(self) -> dict[str, ObjectEstimate]:
        qpos, t = self.world.snapshot()
        frame = self.camera.capture(qpos, t, "top", depth=True, seg=self.perception == "ground_truth")
        return {e.name: e for e in self.detector.detect(frame)}

    def detect_objects(self, query: str = "") -> list[Detection]:
        """Objects the top camera sees now, named from the scene catalogue; `query` filters by substring."""
        dets = [e.to_detection() for e in self._estimates().values()]
        q = query.strip().lower()
        if q:
            dets = [d for d in dets if q in d.id.lower() or q in d.class_id.lower() or q in d.color.lower()]
        return sorted(dets, key=lambda d: self.scene.object_names.index(d.id))

    # -- motion ----------------------------------------------------------------------------------------------

    def _begin(self) -> None:
        if not self._motion.acquire(blocking=False):
            raise SkillError("rejected", "another motion is in progress")
        self.skills.cancel.clear()

    def pick_place(self, obj: str, target: str, velocity_scaling: float = 0.5) -> dict[str, Any]:
        """Pick `obj` (a detected object's id) and place it into container `target`."""
        v = check_velocity_scaling(velocity_scaling)
        if not isinstance(obj, str) or obj not in self.scene.object_names:
            raise SkillError("unknown_object", f"no object named {obj!r}; known: {', '.join(self.scene.object_names)}")
        if not isinstance(target, str) or target not in self.scene.container_names:
            raise SkillError("unknown_target",
                             f"no container named {target!r}; known: {', '.join(self.scene.container_names)}")
        self._begin()
        try:
            details = self.skills.pick_place(self._estimates, obj, self.scene.container(target), v)
            pos = self.world.object_pose(details.get("moved", obj))[0]
            self.detector.note_moved(obj, pos)
        finally:
            self._motion.release()
        if details.get("final_location") != target:  # e.g. tipped over the wall: a real failure, not a success
            raise SkillError("placement_failed", f"{obj} ended at {details.get('final_location')!r}, not in "
                                                 f"{target!r} (grasps: {details.get('attempts')}, releases: "
                                                 f"{details.get('place_attempts')})")
        return details

    def move_to(self, position: tuple[float, float, float], velocity_scaling: float = 0.5) -> None:
        """Move the pinch point (gripper pointing down) to `position` in the robot base frame."""
        v = check_velocity_scaling(velocity_scaling)
        try:
            p = tuple(float(c) for c in position)
            if len(p) != 3 or not all(math.isfinite(c) for c in p):
                raise ValueError
        except (TypeError, ValueError):
            raise SkillError("invalid_argument", f"position must be three finite numbers, got {position!r}") from None
        self._begin()
        try:
            self.skills.move_to(np.array(p), v)
        finally:
            self._motion.release()

    def home(self, velocity_scaling: float = 0.5) -> None:
        v = check_velocity_scaling(velocity_scaling)
        self._begin()
        try:
            self.skills.home(v)
        finally:
            self._motion.release()

    def stop(self) -> None:
        """Abort the motion in progress (it raises SkillError('canceled')); safe from any thread."""
        self.skills.cancel.set()

    # -- state -----------------------------------------------------------------------------------------------

    def world_state(self) -> dict[str, str]:
        return self.world.world_state()

    def place_colors(self) -> dict[str, str]:
        """Each container's colour as the scene names it ('tool_bucket' -> 'yellow'): what a person sees."""
        return {c.name: c.color.name for c in self.scene.containers}

    def render(self, path: str | Path, camera: str = "overview") -> Path:
        """Write a PNG of the table ('overview' for people, 'top' is what the detector sees)."""
        qpos, _ = self.world.snapshot()
        return self.camera.save_png(qpos, path, camera)

    def close(self) -> None:
        self.camera.close()

    def __enter__(self) -> SimSkillBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
