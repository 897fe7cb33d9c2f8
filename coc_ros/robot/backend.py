"""The interface every skill backend implements: the MuJoCo world, ROS service clients, MoveIt on real arms.

Backends do the work; `coc_ros.robot.api.RobotAPI` in front of them does the safety checks, so a new backend
cannot forget one.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol


class SkillError(Exception):
    """A robot skill failed for a real reason. It surfaces as an error in the trace; it is never simulated.

    `code` is one of: unknown_object, unknown_target, unreachable, grasp_failed, placement_failed, collision, canceled,
    invalid_argument, limit, out_of_bounds, rejected, backend.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclasses.dataclass
class Detection:
    """A detected object; fields follow vision_msgs/Detection3D (class id + score, bbox centre + size)."""

    id: str  # unique name the robot API uses for this object, e.g. "red_cube"
    class_id: str  # what kind of thing it is, e.g. "cube"
    score: float
    position: tuple[float, float, float]  # bbox centre, metres, robot base frame
    size: tuple[float, float, float]  # bbox extent, metres
    color: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class SkillBackend(Protocol):
    """What a robot (simulated or real) must offer the robot API."""

    def detect_objects(self, query: str = "") -> list[Detection]:
        """Objects currently visible; `query` optionally filters by label substring."""

    def pick_place(self, obj: str, target: str, velocity_scaling: float) -> dict[str, Any]:
        """Pick `obj` and place it in/on `target`; raise SkillError on failure. Returns details (e.g. attempts)."""

    def move_to(self, position: tuple[float, float, float], velocity_scaling: float) -> None:
        """Move the end effector (gripper pointing down) to `position`; raise SkillError on failure."""

    def stop(self) -> None:
        """Stop any motion in progress as soon as possible (thread-safe; called from cancel)."""

    def world_state(self) -> dict[str, str]:
        """Object name -> container or location name (for scoring and the demo's result)."""
