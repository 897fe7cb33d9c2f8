"""A tiny in-memory SkillBackend (no physics): for tests and for trying the ROS plumbing without MuJoCo.

Selected with skill_server's `backend: fake`. Motions take `motion_s` seconds of wall time and stop within
10 ms when stop() is called (SkillError 'canceled'), like the real backends.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from coc_ros.robot.backend import Detection, SkillError

DEFAULT_OBJECTS = {"red_cube": "table", "green_cube": "table", "blue_cube": "table", "apple": "table"}
DEFAULT_CONTAINERS = ("trash_bin", "box", "bowl")
# The fake camera reads an object's colour and label from its name: 'red_cube' -> red cube, 'tomato_2' -> tomato.
COLORS = frozenset({"red", "green", "blue", "yellow", "purple", "orange", "white", "black", "gray", "brown", "pink"})


class FakeSkillBackend:
    def __init__(self, objects: dict[str, str] | None = None, containers: tuple[str, ...] = DEFAULT_CONTAINERS,
                 motion_s: float = 0.2):
        self.world = dict(objects or DEFAULT_OBJECTS)
        self.containers = tuple(containers)
        self.motion_s = motion_s
        self._cancel = threading.Event()
        self._motion = threading.Lock()

    def detect_objects(self, query: str = "") -> list[Detection]:
        out = []
        for i, name in enumerate(self.world):
            words = [w for w in name.split("_") if not w.isdigit()] or [name]
            color = words[0] if words[0] in COLORS and len(words) > 1 else ""
            kind = "_".join(words[1:] if color else words)
            det = Detection(id=name, class_id=kind, score=0.99, position=(0.4, -0.1 + 0.05 * i, 0.02),
                            size=(0.04, 0.04, 0.04), color=color)
            if not query or query.lower() in name.lower():
                out.append(det)
        return out

    def _move(self, velocity_scaling: float) -> None:
        if not 0.0 < float(velocity_scaling) <= 1.0:
            raise SkillError("invalid_argument", f"velocity_scaling must be in (0, 1], got {velocity_scaling!r}")
        if not self._motion.acquire(blocking=False):
            raise SkillError("rejected", "another motion is in progress")
        try:
            self._cancel.clear()
            end = time.monotonic() + self.motion_s
            while time.monotonic() < end:
                if self._cancel.wait(0.01):
                    raise SkillError("canceled", "motion stopped")
        finally:
            self._motion.release()

    def pick_place(self, obj: str, target: str, velocity_scaling: float = 0.5) -> dict[str, Any]:
        if obj not in self.world:
            raise SkillError("unknown_object", f"no object named {obj!r}; known: {', '.join(self.world)}")
        if target not in self.containers:
            raise SkillError("unknown_target", f"no container named {target!r}; known: {', '.join(self.containers)}")
        self._move(velocity_scaling)
        self.world[obj] = target
        return {"attempts": 1}

    def move_to(self, position: tuple[float, float, float], velocity_scaling: float = 0.5) -> None:
        self._move(velocity_scaling)

    def stop(self) -> None:
        self._cancel.set()

    def world_state(self) -> dict[str, str]:
        return dict(self.world)
