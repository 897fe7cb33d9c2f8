"""Robot skills in the simulator: move_to and pick_place built from IK, OMPL plans and servo execution.

Execution steps the physics itself (there is no real-time clock in the loop), in 10 ms chunks, each under the
world lock, checking between chunks for a stop request and for robot-vs-environment collisions. That is what
makes `stop()` prompt and lets world_state() be read during a motion.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Any
from collections.abc import Callable

import mujoco
import numpy as np

from coc_ros.robot.backend import SkillError
from coc_ros.sim.ik import IKSolver, closing_yaw, down_rotation
from coc_ros.sim.perception import ObjectEstimate
from coc_ros.sim.planning import CollisionChecker, JointPlanner, PlanningError
from coc_ros.sim.robot_model import HOME_Q
from coc_ros.sim.scene import CONTAINER_FLOOR, WALL, ContainerSpec
from coc_ros.sim.world import GRIPPER_CLOSED, GRIPPER_OPEN, SimWorld

V_MAX = 1.5  # rad/s at velocity_scaling 1 (the Panda allows ~2.2-2.6)
TRANSIT_Z = 0.25  # pinch height for moves between objects and containers
CHUNK = 5  # physics steps per control tick (10 ms)
# move_to workspace: a box in front of the robot, out of its base column
BOUNDS = ((0.15, 0.8), (-0.6, 0.6), (0.01, 0.7))


def check_bounds(p: np.ndarray) -> None:
    (x0, x1), (y0, y1), (z0, z1) = BOUNDS
    x, y, z = (float(v) for v in p)
    if not (x0 <= x <= x1 and y0 <= y <= y1 and z0 <= z <= z1) or math.hypot(x, y) < 0.2:
        raise SkillError("out_of_bounds", f"position ({x:.3f}, {y:.3f}, {z:.3f}) is outside the workspace "
                         f"x {BOUNDS[0]}, y {BOUNDS[1]}, z {BOUNDS[2]} (and >= 0.2 m from the base)")


class Skills:
    """Motions of one SimWorld. One motion at a time; `cancel` (an Event) aborts the one running."""

    def __init__(self, world: SimWorld):
        self.world = world
        self.ik = IKSolver(world.model)
        self.checker = CollisionChecker(world.model, world.arm_qadr, world.robot_geoms, world.gripper_geoms)
        self.planner = JointPlanner(self.checker, world.arm_lo, world.arm_hi)
        self.cancel = threading.Event()
        self.stats: dict[str, float] = {"plans": 0, "plan_s": 0.0}

    # -- execution -------------------------------------------------------------------------------------------

    def _tick(self, check_collision: bool) -> None:
        if self.cancel.is_set():
            self.world.set_arm_target(self.world.arm_q())
            raise SkillError("canceled", "motion stopped on request")
        self.world.step(CHUNK)
        if check_collision:
            hits = self.world.robot_env_contacts()
            if hits:
                self.world.set_arm_target(self.world.arm_q())
                a, b, d = hits[0]
                raise SkillError("collision", f"robot hit {b} with {a} ({-d * 1000:.0f} mm deep); motion stopped")

    def follow(self, waypoints: list[np.ndarray], velocity_scaling: float, check_collision: bool = True) -> None:
        """Track a joint path with a smooth (smoothstep) timing; peak joint speed = V_MAX * scaling."""
        pts = [np.asarray(p, float) for p in waypoints]
        seg = [float(np.max(np.abs(b - a))) for a, b in zip(pts[:-1], pts[1:])]
        total = sum(seg)
        if total > 1e-6:
            duration = max(1.5 * total / (V_MAX * velocity_scaling), 0.1)
            cum = np.concatenate([[0.0], np.cumsum(seg)])
            n = max(1, int(math.ceil(duration / (CHUNK * self.world.dt))))
            for k in range(1, n + 1):
                t = k / n
                s = (3 * t * t - 2 * t * t * t) * total
                i = min(int(np.searchsorted(cum, s, side="right")) - 1, len(seg) - 1)
                u = 0.0 if seg[i] <= 0 else (s - cum[i]) / seg[i]
                self.world.set_arm_target(pts[i] + (pts[i + 1] - pts[i]) * min(max(u, 0.0), 1.0))
                self._tick(check_collision)
        self.world.set_arm_target(pts[-1])
        self.settle(pts[-1], check_collision)

    def settle(self, goal: np.ndarray, check_collision: bool = True, tol: float = 2e-3, max_s: float = 1.0) -> None:
        for _ in range(int(max_s / (CHUNK * self.world.dt))):
            if np.max(np.abs(self.world.arm_q() - goal)) < tol and np.max(np.abs(self.world.arm_qvel())) < 0.05:
                return
            self._tick(check_collision)

    def wait(self, seconds: float) -> None:
        for _ in range(max(1, int(seconds / (CHUNK * self.world.dt)))):
            self._tick(False)

    def gripper(self, closed: bool) -> None:
        self.world.set_gripper(GRIPPER_CLOSED if closed else GRIPPER_OPEN)
        self.wait(0.5 if closed else 0.35)

    # -- kinematics helpers ----------------------------------------------------------------------------------

    def solve(self, pos: np.ndarray, yaw: float, seed: np.ndarray | None = None) -> np.ndarray:
        with self.world.lock:
            base = self.world.data.qpos.copy()
        q = self.ik.solve(np.asarray(pos, float), down_rotation(yaw), self.world.arm_q() if seed is None else seed,
                          base)
        if q is None:
            raise SkillError("unreachable", f"no arm configuration reaches ({pos[0]:.3f}, {pos[1]:.3f}, "
                             f"{pos[2]:.3f}) with the gripper pointing down")
        return q

    def plan_to(self, q_goal: np.ndarray, carried: str | None = None) -> list[np.ndarray]:
        """Collision-free path from the current configuration (carrying `carried` if given)."""
        w = self.world
        with w.lock:
            self.checker.set_world(w.data.qpos)
            q0 = w.data.qpos[w.arm_qadr].copy()
            if carried is not None:
                pos, rot = w.pinch_pose()
                opos, oquat = w.object_pose(carried)
                sq = np.zeros(4)
                mujoco.mju_mat2Quat(sq, rot.reshape(-1))
                inv = np.zeros(4)
                mujoco.mju_negQuat(inv, sq)
                rq = np.zeros(4)
                mujoco.mju_mulQuat(rq, inv, oquat)
                self.checker.attach(w.object_geom[carried], int(w.object_qadr[carried]), rot.T @ (opos - pos), rq)
            else:
                self.checker.detach()
        t0 = time.perf_counter()
        try:
            return self.planner.plan(q0, q_goal)
        except PlanningError as exc:
            raise SkillError("collision" if "collision" in str(exc) else "unreachable", str(exc)) from None
        finally:
            self.stats["plans"] += 1
            self.stats["plan_s"] += time.perf_counter() - t0
            self.checker.detach()

    def line(self, goal: np.ndarray, yaw: float, velocity_scaling: float, check_collision: bool = True,
             step: float = 0.02) -> None:
        """Straight Cartesian move of the pinch point (descend/lift), IK-chained every 2 cm."""
        start, _ = self.world.pinch_pose()
        n = max(1, int(math.ceil(np.linalg.norm(goal - start) / step)))
        q = self.world.arm_q()
        path = [q]
        for k in range(1, n + 1):
            q = self.solve(start + (goal - start) * k / n, yaw, seed=q)
            if np.max(np.abs(q - path[-1])) > 0.6:
                raise SkillError("unreachable", "straight-line move needs a large joint flip; target too far")
            path.append(q)
        self.follow(path, velocity_scaling, check_collision)

    # -- skills ----------------------------------------------------------------------------------------------

    def move_to(self, position: tuple[float, float, float], velocity_scaling: float,
                yaw: float | None = None, carried: str | None = None) -> None:
        p = np.asarray(position, float)
        check_bounds(p)
        if yaw is None:
            yaw = closing_yaw(self.world.pinch_pose()[1])
        q = self.solve(p, yaw)
        self.follow(self.plan_to(q, carried), velocity_scaling)

    def home(self, velocity_scaling: float) -> None:
        self.follow(self.plan_to(np.array(HOME_Q)), velocity_scaling)

    def grasp_yaw(self, est: ObjectEstimate) -> float:
        """Close across the object's short side; among symmetric choices take the one nearest the current wrist."""
        cur = closing_yaw(self.world.pinch_pose()[1])
        if est.spec.shape == "box":
            ex = est.spec.extents
            base = est.yaw
            period = math.pi / 2 if abs(ex[0] - ex[1]) < 1e-3 else math.pi
        else:
            base, period = cur, math.pi
        cands = [base + k * period for k in range(-4, 5)]
        cands = [c for c in cands if -math.pi <= c <= math.pi] or cands
        return min(cands, key=lambda c: abs(math.atan2(math.sin(c - cur), math.cos(c - cur))) + 0.05 * abs(c))

    @staticmethod
    def grasp_height(est: ObjectEstimate) -> float:
        """Pinch height: near the top of tall things, the equator of spheres, never with fingertips on the table."""
        h = est.spec.height
        z = est.position[2]
        support = z - h / 2
        if est.spec.shape == "sphere":
            g = z - 0.008
        else:
            g = max(z, z + h / 2 - 0.025)
        return max(g, support + 0.012)

    def pick(self, est: ObjectEstimate, velocity_scaling: float) -> str:
        """Approach from above, descend, close, lift; raise grasp_failed unless the object really comes along.

        Returns the simulator name of the object in the hand: normally `est.name`, but a look-alike (the other
        tomato) if perception swapped their identities; the grasp itself is what is checked.
        """
        w = self.world
        yaw = self.grasp_yaw(est)
        gz = self.grasp_height(est)
        above = np.array([est.position[0], est.position[1], TRANSIT_Z])
        q_above = self.solve(above, yaw)
        self.solve(np.array([est.position[0], est.position[1], gz]), yaw, seed=q_above)  # reachable at all?
        self.gripper(False)
        self.follow(self.plan_to(q_above), velocity_scaling)
        self.line(np.array([est.position[0], est.position[1], gz]), yaw, velocity_scaling * 0.5)
        z_before = {n: float(w.object_pose(n)[0][2]) for n in w.object_body}
        self.gripper(True)
        self.line(above, yaw, velocity_scaling * 0.5)
        self.wait(0.1)
        pinch, _ = w.pinch_pose()
        for name in [est.name] + [n for n in w.object_body if n != est.name]:
            pos, _ = w.object_pose(name)
            if (w.object_held(name) and pos[2] > z_before[name] + 0.1
                    and np.linalg.norm(pos[:2] - pinch[:2]) < 0.04):
                return name
        self.gripper(False)
        raise SkillError("grasp_failed", f"{est.name} is not in the gripper after closing and lifting")

    def place_spot(self, obj_radius: float, container: ContainerSpec, occupied: list[np.ndarray]) -> np.ndarray:
        """A spot in the container's footprint as far as possible from what is already in it (and from spots
        already tried, which the caller passes as occupied)."""
        hx = container.size[0] / 2 - WALL - obj_radius - 0.012
        hy = container.size[1] / 2 - WALL - obj_radius - 0.012
        hx, hy = max(hx, 0.0), max(hy, 0.0)
        cands = [np.array([container.pos[0] + fx * hx, container.pos[1] + fy * hy])
                 for fx in (0.0, -1.0, 1.0) for fy in (0.0, -1.0, 1.0)]
        if not occupied:
            return cands[0]
        return max(cands, key=lambda c: min(float(np.linalg.norm(c - o[:2])) for o in occupied))

    def place(self, name: str, container: ContainerSpec, occupied: list[np.ndarray],
              velocity_scaling: float) -> np.ndarray:
        """Carry the held object over the container, lower it to just above the floor, let go, back off; returns
        the spot it was released over."""
        w = self.world
        spec = w.scene.object(name)
        spot = self.place_spot(spec.footprint_radius, container, occupied)
        pinch, rot = w.pinch_pose()
        opos, _ = w.object_pose(name)
        hang = float(pinch[2] - (opos[2] - spec.height / 2))  # object bottom below the pinch point
        yaw = closing_yaw(rot)
        transit = max(TRANSIT_Z, container.size[2] + CONTAINER_FLOOR + hang + 0.04)
        q_above = self.solve(np.array([spot[0], spot[1], transit]), yaw)
        # open the fingers above the rim (they spread ~6.5 cm each side), but no higher than needed
        release_z = max(CONTAINER_FLOOR + 0.015 + hang, CONTAINER_FLOOR + container.size[2] + 0.015)
        self.solve(np.array([spot[0], spot[1], release_z]), yaw, seed=q_above)
        if transit > TRANSIT_Z + 1e-6:
            self.line(np.array([pinch[0], pinch[1], transit]), yaw, velocity_scaling)
        self.follow(self.plan_to(q_above, carried=name), velocity_scaling)
        if not w.object_held(name):
            raise SkillError("grasp_failed", f"{name} slipped out of the gripper on the way to {container.name}")
        self.line(np.array([spot[0], spot[1], release_z]), yaw, velocity_scaling * 0.5)
        self.gripper(False)
        self.line(np.array([spot[0], spot[1], transit]), yaw, velocity_scaling)
        return spot

    def pick_place(self, detect: Callable[[], dict[str, ObjectEstimate]], obj: str, container: ContainerSpec,
                   velocity_scaling: float, retries: int = 1, place_retries: int = 1) -> dict[str, Any]:
        """Detect, pick (one retry after a failed grasp, from a fresh detection), place, go home, and look where
        the object came to rest: one that bounced or tipped out onto the table or into another container (seen
        with round fruit and tall bottles in full containers) is picked again and released over another spot,
        `place_retries` times. One that fell to the floor is out of reach and stays a placement failure."""
        held, ests, attempts = self._pick(detect, obj, velocity_scaling, retries)
        tried: list[np.ndarray] = []
        places = 0
        while True:
            places += 1
            occupied = [e.position for n, e in ests.items() if n != held and container.contains_xy(*e.position[:2])]
            tried.append(self.place(held, container, occupied + [np.array([*t, 0.0]) for t in tried],
                                    velocity_scaling))
            self.home(velocity_scaling)
            where = self.world.location_of(held)
            if where in (container.name, "floor", "gripper") or places > place_retries:
                break
            ests = detect()
            if held not in ests:
                break
            try:
                held = self.pick(ests[held], velocity_scaling)
            except SkillError as exc:
                if exc.code != "grasp_failed":
                    raise
                self.home(velocity_scaling)
                break
        return {"attempts": attempts, "place_attempts": places, "final_location": self.world.location_of(held),
                "moved": held}

    def _pick(self, detect: Callable[[], dict[str, ObjectEstimate]], obj: str, velocity_scaling: float,
              retries: int) -> tuple[str, dict[str, ObjectEstimate], int]:
        """Pick `obj` from a fresh detection, once more after a failed grasp; (held name, detections, attempts)."""
        attempts = 0
        last_error: SkillError | None = None
        while attempts <= retries:
            attempts += 1
            ests = detect()
            if obj not in ests:
                raise SkillError("unknown_object", f"{obj} is not visible to the camera")
            try:
                return self.pick(ests[obj], velocity_scaling), ests, attempts
            except SkillError as exc:
                if exc.code != "grasp_failed":
                    raise
                last_error = exc
                self.line(np.array([*self.world.pinch_pose()[0][:2], TRANSIT_Z]),
                          closing_yaw(self.world.pinch_pose()[1]), velocity_scaling)
        assert last_error is not None
        self.home(velocity_scaling)
        raise SkillError("grasp_failed", f"{last_error.message} (after {attempts} attempts)")
