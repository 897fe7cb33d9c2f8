"""Collision-free joint-space paths with OMPL RRTConnect, validity checked by MuJoCo on a model copy.

Why a copy: the checker sets joint angles and runs mj_kinematics + mj_collision thousands of times per plan; doing
that on the live data would teleport the robot. The copy has every geom's margin set to the clearance, so MuJoCo
reports near-contacts (dist < clearance) and the check keeps 1 cm from obstacles. Resolution 0.002: at 0.005 a path
was measured crossing a 2 cm wall.
"""
from __future__ import annotations

import copy

import mujoco
import numpy as np
from ompl import base as ob
from ompl import geometric as og

try:  # OMPL logs every plan at INFO; keep test and node output readable
    from ompl import util as _ou

    _ou.setLogLevel(_ou.LogLevel.LOG_WARN if hasattr(_ou, "LogLevel") else _ou.LOG_WARN)
except Exception:  # pragma: no cover - logging control is optional
    pass

RESOLUTION = 0.002
CLEARANCE = 0.01


class CollisionChecker:
    """Is an arm configuration collision free (with clearance), given the rest of the world's qpos?"""

    def __init__(self, model: mujoco.MjModel, arm_qadr: np.ndarray, robot_geoms: set[int], gripper_geoms: set[int],
                 ignore_pairs: set[frozenset[int]] | None = None, clearance: float = CLEARANCE):
        self.model = copy.copy(model)  # MjModel supports copy: arrays are duplicated, the live model is untouched
        self.model.geom_margin[:] = clearance
        self.model.geom_gap[:] = 0.0
        self.data = mujoco.MjData(self.model)
        self.arm_qadr = arm_qadr
        self.robot_geoms = robot_geoms
        self.gripper_geoms = gripper_geoms
        self.clearance = clearance
        self.base_body = model.body("link0").id
        self.ignore_pairs = ignore_pairs or set()
        self.attached: tuple[int, int, np.ndarray, np.ndarray] | None = None  # geom, qadr, rel pos, rel quat
        self.attached_geom = -1
        self.site = model.site("pinch").id
        self.checks = 0

    def set_world(self, qpos: np.ndarray) -> None:
        """Objects and robot as they are now (object poses matter; the arm part is overwritten per check)."""
        self.data.qpos[:] = qpos

    def attach(self, geom: int, qadr: int, rel_pos: np.ndarray, rel_quat: np.ndarray) -> None:
        """Carry an object rigidly with the pinch frame while planning (it must not hit bins either)."""
        self.attached = (geom, qadr, np.asarray(rel_pos, float), np.asarray(rel_quat, float))
        self.attached_geom = geom

    def detach(self) -> None:
        self.attached = None
        self.attached_geom = -1

    def _place_attached(self) -> None:
        if self.attached is None:
            return
        _, qadr, rp, rq = self.attached
        d = self.data
        R = d.site_xmat[self.site].reshape(3, 3)
        pos = d.site_xpos[self.site] + R @ rp
        sq = np.zeros(4)
        mujoco.mju_mat2Quat(sq, d.site_xmat[self.site])
        q = np.zeros(4)
        mujoco.mju_mulQuat(q, sq, rq)
        d.qpos[qadr:qadr + 3] = pos
        d.qpos[qadr + 3:qadr + 7] = q

    def collisions(self, q_arm: np.ndarray, clearance: float | None = None) -> list[tuple[int, int, float]]:
        """Robot (or carried object) vs environment pairs closer than the clearance."""
        clr = self.clearance if clearance is None else clearance
        d, m = self.data, self.model
        d.qpos[self.arm_qadr] = q_arm
        mujoco.mj_kinematics(m, d)
        if self.attached is not None:
            self._place_attached()
            mujoco.mj_kinematics(m, d)
        mujoco.mj_collision(m, d)
        self.checks += 1
        out = []
        for i in range(d.ncon):
            c = d.contact[i]
            g1, g2 = int(c.geom1), int(c.geom2)
            r1 = g1 in self.robot_geoms or g1 == self.attached_geom
            r2 = g2 in self.robot_geoms or g2 == self.attached_geom
            if not (r1 or r2) or (r1 and r2):
                continue  # object-on-table contacts, and robot self/carried-object-in-hand contacts
            if m.geom_bodyid[g1] == self.base_body or m.geom_bodyid[g2] == self.base_body:
                continue  # the base stands on the table
            if frozenset((g1, g2)) in self.ignore_pairs:
                continue
            if c.dist < clr:
                out.append((g1, g2, float(c.dist)))
        return out

    def valid(self, q_arm: np.ndarray) -> bool:
        return not self.collisions(q_arm)

    def segment_valid(self, qa: np.ndarray, qb: np.ndarray, resolution: float = RESOLUTION) -> bool:
        """Dense check along a straight joint-space segment (the same resolution OMPL uses)."""
        n = max(2, int(np.ceil(np.max(np.abs(qb - qa)) / resolution)) + 1)
        return all(self.valid(qa + (qb - qa) * t) for t in np.linspace(0.0, 1.0, n))


class PlanningError(RuntimeError):
    """No collision-free path (start/goal in collision, or the planner timed out)."""


class JointPlanner:
    """RRTConnect over the 7 arm joints within their limits."""

    def __init__(self, checker: CollisionChecker, lo: np.ndarray, hi: np.ndarray):
        self.checker = checker
        self.space = ob.RealVectorStateSpace(7)
        bounds = ob.RealVectorBounds(7)
        for i in range(7):
            bounds.setLow(i, float(lo[i]))
            bounds.setHigh(i, float(hi[i]))
        self.space.setBounds(bounds)

    def _to_np(self, s) -> np.ndarray:
        return np.array([s[i] for i in range(7)])

    def plan(self, q_start: np.ndarray, q_goal: np.ndarray, timeout: float = 2.0,
             resolution: float = RESOLUTION, attempts: int = 4) -> list[np.ndarray]:
        """Waypoints from start to goal, simplified; the straight line is tried first (most moves are free)."""
        chk = self.checker
        bad_start, bad_goal = chk.collisions(q_start), chk.collisions(q_goal)
        if bad_goal:
            raise PlanningError(f"goal configuration in collision: {self._describe(bad_goal)}")
        if bad_start:
            raise PlanningError(f"start configuration in collision: {self._describe(bad_start)}")
        if chk.segment_valid(q_start, q_goal, resolution):
            return [np.asarray(q_start, float), np.asarray(q_goal, float)]
        # OMPL's resolution is a fraction of the space's extent (0.002 -> ~0.02 rad steps here); the final path is
        # re-checked every 0.002 rad, and a path failing that is re-planned (rare: it grazed the clearance).
        for _ in range(attempts):
            pts = self._rrt(q_start, q_goal, timeout, resolution)
            if all(chk.segment_valid(a, b, resolution) for a, b in zip(pts[:-1], pts[1:])):
                return pts
        raise PlanningError(f"no path passed the dense collision re-check in {attempts} attempts")

    def _rrt(self, q_start: np.ndarray, q_goal: np.ndarray, timeout: float, resolution: float) -> list[np.ndarray]:
        chk = self.checker
        ss = og.SimpleSetup(self.space)
        ss.setStateValidityChecker(lambda s: chk.valid(self._to_np(s)))
        si = ss.getSpaceInformation()
        si.setStateValidityCheckingResolution(resolution)
        start, goal = self.space.allocState(), self.space.allocState()
        for i in range(7):
            start[i] = float(q_start[i])
            goal[i] = float(q_goal[i])
        ss.setStartAndGoalStates(start, goal)
        ss.setPlanner(og.RRTConnect(si))
        solved = ss.solve(timeout)
        if not solved or not ss.haveExactSolutionPath():
            raise PlanningError(f"no collision-free path found in {timeout:.1f} s")
        ss.simplifySolution(0.5)
        path = ss.getSolutionPath()
        return [self._to_np(path.getState(i)) for i in range(path.getStateCount())]

    def _describe(self, cols: list[tuple[int, int, float]]) -> str:
        m = self.checker.model
        names = []
        for g1, g2, dist in cols[:3]:
            n1 = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g1) or m.body(int(m.geom_bodyid[g1])).name
            n2 = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g2) or m.body(int(m.geom_bodyid[g2])).name
            names.append(f"{n1}~{n2} ({dist * 1000:.0f} mm)")
        return ", ".join(names)
