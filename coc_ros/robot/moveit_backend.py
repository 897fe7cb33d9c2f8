"""SkillBackend for real arms through MoveIt 2's Python API (moveit_py). Imported only when backend == 'moveit'.

moveit_py is not on PyPI: it comes with a full ROS 2 + MoveIt 2 install (e.g. `apt install ros-$ROS_DISTRO-moveit-py`
on Ubuntu). Without it, constructing the backend fails with a message saying so. Perception is not part of
MoveIt: detect_objects reads a static object list from the `objects` option (name -> [x, y, z]) until a
perception node is configured; pick_place moves above the object, descends, closes the gripper (a named
`gripper_closed` state of the gripper planning group), and moves to the target's pose.
"""
from __future__ import annotations

import threading
from typing import Any

from coc_ros.robot.backend import Detection, SkillError

INSTALL_HINT = ("the 'moveit' skill backend needs moveit_py (MoveIt 2's Python bindings), which is not installed; "
                "install ROS 2 with MoveIt 2 (e.g. apt install ros-$ROS_DISTRO-moveit-py) and source it, "
                "or use backend:=sim")


def _import_moveit() -> Any:
    try:
        from moveit.planning import MoveItPy
    except ImportError as exc:
        raise RuntimeError(f"{INSTALL_HINT} ({exc})") from None
    return MoveItPy


class MoveItSkillBackend:
    def __init__(self, *, arm_group: str = "panda_arm", gripper_group: str = "hand", ee_link: str = "panda_hand",
                 base_frame: str = "panda_link0", objects: dict[str, list[float]] | None = None,
                 containers: dict[str, list[float]] | None = None, approach_height: float = 0.12):
        MoveItPy = _import_moveit()
        self.robot = MoveItPy(node_name="coc_moveit_py")
        self.arm = self.robot.get_planning_component(arm_group)
        self.gripper = self.robot.get_planning_component(gripper_group)
        self.ee_link = ee_link
        self.base_frame = base_frame
        self.objects = {k: tuple(v) for k, v in (objects or {}).items()}
        self.containers = {k: tuple(v) for k, v in (containers or {}).items()}
        self.world = {k: "table" for k in self.objects}
        self.approach = approach_height
        self._stop = threading.Event()

    def detect_objects(self, query: str = "") -> list[Detection]:
        return [Detection(id=n, class_id=n, score=1.0, position=p, size=(0.05, 0.05, 0.05))
                for n, p in self.objects.items() if not query or query.lower() in n.lower()]

    def _pose(self, position: tuple[float, float, float]) -> Any:
        from geometry_msgs.msg import PoseStamped

        pose = PoseStamped()
        pose.header.frame_id = self.base_frame
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = (float(c) for c in position)
        pose.pose.orientation.x = 1.0  # gripper pointing down
        pose.pose.orientation.w = 0.0
        return pose

    def _plan_execute(self, component: Any, velocity_scaling: float) -> None:
        if self._stop.is_set():
            raise SkillError("canceled", "motion stopped")
        from moveit.planning import PlanRequestParameters

        params = PlanRequestParameters(self.robot, "")
        params.max_velocity_scaling_factor = velocity_scaling
        params.max_acceleration_scaling_factor = velocity_scaling
        plan = component.plan(single_plan_parameters=params)
        if not plan:
            raise SkillError("unreachable", "MoveIt found no plan")
        self.robot.execute(plan.trajectory, controllers=[])

    def move_to(self, position: tuple[float, float, float], velocity_scaling: float = 0.5) -> None:
        self._stop.clear()
        self.arm.set_start_state_to_current_state()
        self.arm.set_goal_state(pose_stamped_msg=self._pose(position), pose_link=self.ee_link)
        self._plan_execute(self.arm, velocity_scaling)

    def _gripper(self, state: str, velocity_scaling: float) -> None:
        self.gripper.set_start_state_to_current_state()
        self.gripper.set_goal_state(configuration_name=state)
        self._plan_execute(self.gripper, velocity_scaling)

    def pick_place(self, obj: str, target: str, velocity_scaling: float = 0.5) -> dict[str, Any]:
        if obj not in self.objects:
            raise SkillError("unknown_object", f"no object named {obj!r}")
        if target not in self.containers:
            raise SkillError("unknown_target", f"no container named {target!r}")
        x, y, z = self.objects[obj]
        self._gripper("open", velocity_scaling)
        self.move_to((x, y, z + self.approach), velocity_scaling)
        self.move_to((x, y, z), velocity_scaling)
        self._gripper("close", velocity_scaling)
        self.move_to((x, y, z + self.approach), velocity_scaling)
        tx, ty, tz = self.containers[target]
        self.move_to((tx, ty, tz + self.approach), velocity_scaling)
        self._gripper("open", velocity_scaling)
        self.world[obj] = target
        return {"attempts": 1}

    def stop(self) -> None:
        # moveit_py has no portable trajectory-cancel call; stop before the next segment and ask the controller
        # manager's execution to stop where available.
        self._stop.set()
        stop = getattr(getattr(self.robot, "get_trajectory_execution_manager", lambda: None)(), "stop_execution", None)
        if callable(stop):
            stop()

    def world_state(self) -> dict[str, str]:
        return dict(self.world)
