"""The robot: gym-hil's Franka Panda + Robotiq 2F-85, converted once for the simulator and given a `home` keyframe.

Kept apart from the scene (as menagerie keeps `panda.xml` apart from `scene.xml`) so a scene file only says what is
on the table and the robot conversion lives in one place: torque motors -> position servos, gravity compensated.
"""
from __future__ import annotations

from pathlib import Path

import mujoco

from coc_ros.config import panda_assets_dir

ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
HOME_Q = (0.0, -1.2, 0.0, -2.9, 0.0, 1.9, 0.785)  # tucked: gripper near the base, out of the top camera's way
HOME_KEY = "home"
GRIPPER_OPEN = 0.0  # fingers_actuator control for fully open
_KP = (4500, 4500, 3500, 3500, 2000, 2000, 2000)
_FORCE = (87, 87, 87, 87, 12, 12, 12)


def panda_xml() -> Path:
    p = panda_assets_dir() / "panda.xml"
    if not p.is_file():
        raise FileNotFoundError(f"Franka Panda model not found at {p}; run install.sh (it unpacks the gym-hil "
                                "0.1.14 wheel's assets there)")
    return p


def robot_spec() -> mujoco.MjSpec:
    """gym-hil's Panda with torque motors turned into menagerie's position servos, gravity compensated, and a
    `home` keyframe (arm at HOME_Q, gripper open) over the robot's own joints; `assembly` appends the objects."""
    spec = mujoco.MjSpec.from_file(str(panda_xml()))
    for i, jn in enumerate(ARM_JOINTS):
        act = spec.actuator(f"actuator{i + 1}")
        act.set_to_position(kp=_KP[i], kv=_KP[i] / 10.0)
        jnt = spec.joint(jn)
        act.ctrlrange = jnt.range
        act.forcelimited = True
        act.forcerange = [-_FORCE[i], _FORCE[i]]
    for body in spec.bodies:
        if body.name != "world":
            body.gravcomp = 1.0
    home = dict(zip(ARM_JOINTS, HOME_Q, strict=True))
    qpos: list[float] = []
    for jnt in spec.joints:
        if jnt.type not in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
            raise ValueError(f"robot joint {jnt.name} is not a hinge or slide; the home keyframe assumes 1-DoF joints")
        qpos.append(home.get(jnt.name, 0.0))
    ctrl = [home.get(a.target, GRIPPER_OPEN) for a in spec.actuators]
    spec.add_key(name=HOME_KEY, qpos=qpos, ctrl=ctrl)
    return spec
