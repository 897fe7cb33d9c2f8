"""Embedded simulated manipulation world: MuJoCo Franka Panda + Robotiq 2F-85 on a table with bins and objects.

Modules, one job each:
- scene: the scene YAML schema and its validator
- layout: seeded placement of a scene's objects
- robot_model: the Panda (position servos, gravity compensation, `home` keyframe)
- assembly: robot + table + scene compiled into one MuJoCo model (MjSpec)
- world: SimWorld, the model + data behind a lock; stepping, poses, world_state
- camera: headless rendering (RGB / depth / segmentation) on a dedicated render thread
- perception: camera detector from pixels and a ground-truth detector from segmentation ids
- ik: mink inverse kinematics for the gripper's pinch point
- planning: OMPL RRTConnect in joint space with MuJoCo collision checks
- skills: move_to / pick_place executed in the simulator
- backend: SimSkillBackend, the SkillBackend the robot API talks to
"""
import os as _os

# Headless rendering: mujoco picks its GL backend at first import, so this must run before any submodule imports it.
_os.environ.setdefault("MUJOCO_GL", "egl")
if _os.environ["MUJOCO_GL"] in ("egl", "osmesa"):
    _os.environ.setdefault("PYOPENGL_PLATFORM", _os.environ["MUJOCO_GL"])
