"""Inverse kinematics for the pinch point with mink (FrameTask + solve_ik/daqp).

mink works on the same MjModel as the simulation but its own data, so solving never disturbs the running world.
Only the 7 arm joints move: other velocities (fingers, object free joints) are zeroed before integrating.
"""
from __future__ import annotations

import math

import mink
import mujoco
import numpy as np

from coc_ros.sim.robot_model import ARM_JOINTS, HOME_Q


def down_rotation(yaw: float) -> np.ndarray:
    """Gripper pointing down (pinch z = world -z) with the fingers closing along world direction `yaw`."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[-s, c, 0.0], [c, s, 0.0], [0.0, 0.0, -1.0]])


def closing_yaw(rot: np.ndarray) -> float:
    """World yaw of the fingers' closing direction (the pinch frame's y axis)."""
    return math.atan2(rot[1, 1], rot[0, 1])


class IKSolver:
    """Solve q_arm such that the pinch site reaches a pose; error < 0.1 mm when reachable."""

    def __init__(self, model: mujoco.MjModel, frame: str = "pinch"):
        self.model = model
        self.config = mink.Configuration(model)
        self.task = mink.FrameTask(frame, "site", position_cost=1.0, orientation_cost=0.5, lm_damping=1e-3)
        self.posture = mink.PostureTask(model, cost=1e-3)
        self.limits = [mink.ConfigurationLimit(model)]
        self.qadr = np.array([model.jnt_qposadr[model.joint(j).id] for j in ARM_JOINTS])
        self.dadr = np.array([model.jnt_dofadr[model.joint(j).id] for j in ARM_JOINTS])
        self.lo = model.jnt_range[[model.joint(j).id for j in ARM_JOINTS], 0]
        self.hi = model.jnt_range[[model.joint(j).id for j in ARM_JOINTS], 1]
        self._mask = np.zeros(model.nv, dtype=bool)
        self._mask[self.dadr] = True
        self.frame = frame

    def solve(self, pos: np.ndarray, rot: np.ndarray, q_seed: np.ndarray, base_qpos: np.ndarray | None = None,
              max_iters: int = 60, pos_tol: float = 1e-4, rot_tol: float = 1e-3,
              restarts: int = 4) -> np.ndarray | None:
        """Arm joint angles reaching (pos, rot), trying `q_seed` first then home and random seeds; None if none."""
        rng = np.random.default_rng(0)
        seeds = [np.asarray(q_seed, float), np.array(HOME_Q)]
        seeds += [rng.uniform(self.lo * 0.8, self.hi * 0.8) for _ in range(restarts)]
        target = mink.SE3.from_rotation_and_translation(mink.SO3.from_matrix(rot), np.asarray(pos, float))
        self.task.set_target(target)
        q0 = np.array(base_qpos if base_qpos is not None else self.model.qpos0, float)
        for seed in seeds:
            q = q0.copy()
            q[self.qadr] = np.clip(seed, self.lo, self.hi)
            self.config.update(q)
            self.posture.set_target(q)
            for _ in range(max_iters):
                err = self.task.compute_error(self.config)
                if np.linalg.norm(err[:3]) < pos_tol and np.linalg.norm(err[3:]) < rot_tol:
                    return self.config.q[self.qadr].copy()
                v = mink.solve_ik(self.config, [self.task, self.posture], 0.5, "daqp", damping=1e-4,
                                  limits=self.limits)
                v[~self._mask] = 0.0
                self.config.integrate_inplace(v, 0.5)
        return None

    def fk(self, q_arm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pinch position and rotation for arm angles (used to verify solutions)."""
        q = self.config.q.copy()
        q[self.qadr] = q_arm
        self.config.update(q)
        T = self.config.get_transform_frame_to_world(self.frame, "site")
        return T.translation().copy(), T.rotation().as_matrix().copy()
