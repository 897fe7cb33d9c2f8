"""A symbolic stand-in for the simulated arm in unit tests: a scene's objects as the camera names them, and
pick_place that only moves names. It checks a task's reference program and scorer in milliseconds; the real
MuJoCo backend is tested on one task of every scene (test_bench_robot_tasks.py), and `coc-ros bench robot-oracle`
runs every task in the simulator over all pose seeds."""
from __future__ import annotations

from typing import Any

from coc_ros.robot.backend import Detection, SkillError
from coc_ros.sim.scene import Scene, load_scene


class SymbolicSceneBackend:
    """Detections straight from the scene file (name, category or shape, colour), every object on the table."""

    def __init__(self, scene: str | Scene):
        self.scene = load_scene(scene) if isinstance(scene, str) else scene
        self.world = {o.name: "table" for o in self.scene.objects}

    def detect_objects(self, query: str = "") -> list[Detection]:
        q = query.strip().lower()
        dets = [Detection(id=o.name, class_id=o.category or o.shape, score=1.0, position=(0.45, 0.0, 0.03),
                          size=(0.05, 0.05, 0.05), color=o.color.name) for o in self.scene.objects]
        return [d for d in dets if not q or q in d.id.lower() or q in d.class_id.lower() or q in d.color.lower()]

    def pick_place(self, obj: str, target: str, velocity_scaling: float) -> dict[str, Any]:
        if obj not in self.world:
            raise SkillError("unknown_object", f"no object named {obj!r}")
        if target in self.world:  # onto another object: it ends up where that object is
            self.world[obj] = self.world[target]
        elif target in self.scene.container_names:
            self.world[obj] = target
        else:
            raise SkillError("unknown_target", f"no place named {target!r}")
        return {"attempts": 1}

    def move_to(self, position: tuple[float, float, float], velocity_scaling: float) -> None:
        """No arm to move."""

    def stop(self) -> None:
        """Nothing runs long enough to stop."""

    def world_state(self) -> dict[str, str]:
        return dict(self.world)

    def place_colors(self) -> dict[str, str]:
        return {c.name: c.color.name for c in self.scene.containers}
