"""SimWorld: one MuJoCo model + data behind a lock, with the few primitives the skills need.

Everything that touches `MjData` takes `self.lock`, because ROS service callbacks may arrive on several threads;
long motions take it in short chunks so `world_state()` and `stop()` stay responsive during a motion.
"""
from __future__ import annotations

import math
import threading
from pathlib import Path

import mujoco
import numpy as np

from coc_ros.sim.assembly import build_model
from coc_ros.sim.robot_model import ARM_JOINTS, HOME_Q
from coc_ros.sim.scene import CONTAINER_FLOOR, Scene, load_scene

GRIPPER_OPEN = 0.0
GRIPPER_CLOSED = 255.0


class SimWorld:
    """The simulated table-top: robot, containers, objects. Robot base frame == world frame."""

    def __init__(self, scene: Scene | str | Path = "sort", seed: int = 0):
        self.scene = scene if isinstance(scene, Scene) else load_scene(scene)
        self.seed = seed
        self.model, self.layout = build_model(self.scene, seed)
        self.data = mujoco.MjData(self.model)
        self.lock = threading.RLock()
        m = self.model
        self.arm_qadr = np.array([m.jnt_qposadr[m.joint(j).id] for j in ARM_JOINTS])
        self.arm_dadr = np.array([m.jnt_dofadr[m.joint(j).id] for j in ARM_JOINTS])
        self.arm_act = np.array([m.actuator(f"actuator{i}").id for i in range(1, 8)])
        self.grip_act = m.actuator("fingers_actuator").id
        self.pinch_site = m.site("pinch").id
        self.arm_lo = m.jnt_range[[m.joint(j).id for j in ARM_JOINTS], 0].copy()
        self.arm_hi = m.jnt_range[[m.joint(j).id for j in ARM_JOINTS], 1].copy()
        # robot = every body in link0's subtree; gripper = base's subtree (pads may touch held objects)
        self.robot_bodies = self._subtree(m.body("link0").id)
        self.gripper_bodies = self._subtree(m.body("base_mount").id)
        self.robot_geoms = {g for g in range(m.ngeom) if m.geom_bodyid[g] in self.robot_bodies}
        self.gripper_geoms = {g for g in range(m.ngeom) if m.geom_bodyid[g] in self.gripper_bodies}
        self.object_body = {o.name: m.body(o.name).id for o in self.scene.objects}
        self.object_geom = {o.name: m.geom(o.name).id for o in self.scene.objects}
        self.object_qadr = {o.name: m.jnt_qposadr[m.joint(f"{o.name}/free").id] for o in self.scene.objects}
        self.geom_object = {g: n for n, g in self.object_geom.items()}
        self.static_geoms = {g for g in range(m.ngeom) if m.geom_bodyid[g] == 0 or
                             m.body_rootid[m.geom_bodyid[g]] in {m.body(c.name).id for c in self.scene.containers}}
        self.reset()

    def _subtree(self, root: int) -> set[int]:
        out = {root}
        for b in range(self.model.nbody):
            p = b
            while p != 0:
                if p == root:
                    out.add(b)
                    break
                p = int(self.model.body_parentid[p])
        return out

    # -- state ---------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Robot at home with the gripper open, objects at their seeded poses, settled for 0.3 s."""
        with self.lock:
            mujoco.mj_resetData(self.model, self.data)
            self.data.qpos[self.arm_qadr] = HOME_Q
            self.data.ctrl[self.arm_act] = HOME_Q
            self.data.ctrl[self.grip_act] = GRIPPER_OPEN
            mujoco.mj_forward(self.model, self.data)
            self.step(150)

    def step(self, n: int = 1) -> None:
        with self.lock:
            mujoco.mj_step(self.model, self.data, nstep=n)

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def dt(self) -> float:
        return float(self.model.opt.timestep)

    def arm_q(self) -> np.ndarray:
        with self.lock:
            return self.data.qpos[self.arm_qadr].copy()

    def arm_qvel(self) -> np.ndarray:
        with self.lock:
            return self.data.qvel[self.arm_dadr].copy()

    def set_arm_target(self, q: np.ndarray) -> None:
        with self.lock:
            self.data.ctrl[self.arm_act] = np.clip(q, self.arm_lo, self.arm_hi)

    def set_gripper(self, value: float) -> None:
        with self.lock:
            self.data.ctrl[self.grip_act] = value

    def pinch_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Position and 3x3 rotation of the gripper's pinch point (between the finger pads)."""
        with self.lock:
            site = self.pinch_site
            return self.data.site_xpos[site].copy(), self.data.site_xmat[site].reshape(3, 3).copy()

    def object_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Ground-truth position and quaternion (w, x, y, z) of an object: for scoring and tests, not perception."""
        with self.lock:
            b = self.object_body[name]
            return self.data.xpos[b].copy(), self.data.xquat[b].copy()

    def set_object_pose(self, name: str, pos: tuple[float, float, float],
                        quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)) -> None:
        """Teleport an object (tests, scenario setup); velocities are zeroed."""
        with self.lock:
            a = self.object_qadr[name]
            self.data.qpos[a:a + 3] = pos
            self.data.qpos[a + 3:a + 7] = quat
            dof = self.model.jnt_dofadr[self.model.joint(f"{name}/free").id]
            self.data.qvel[dof:dof + 6] = 0.0
            mujoco.mj_forward(self.model, self.data)

    def snapshot(self) -> tuple[np.ndarray, float]:
        """qpos + time, enough to render the current scene from another thread without holding the lock."""
        with self.lock:
            return self.data.qpos.copy(), float(self.data.time)

    def robot_env_contacts(self, min_penetration: float = 0.003) -> list[tuple[str, str, float]]:
        """Robot geoms touching the table, containers or floor deeper than `min_penetration`: real collisions."""
        out = []
        with self.lock:
            d = self.data
            for i in range(d.ncon):
                c = d.contact[i]
                g1, g2 = int(c.geom1), int(c.geom2)
                for a, b in ((g1, g2), (g2, g1)):
                    if a in self.robot_geoms and b in self.static_geoms and c.dist < -min_penetration:
                        if self.model.geom_bodyid[a] == self.model.body("link0").id:
                            continue  # the base stands on the table
                        out.append((self._geom_label(a), self._geom_label(b), float(c.dist)))
        return out

    def _geom_label(self, g: int) -> str:
        name = mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_GEOM, g)
        return name or mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_BODY, int(self.model.geom_bodyid[g]))

    def object_held(self, name: str) -> bool:
        """True when both finger pads touch the object: the grasp really holds it."""
        with self.lock:
            d, m = self.data, self.model
            og = self.object_geom[name]
            left = right = False
            for i in range(d.ncon):
                c = d.contact[i]
                other = c.geom2 if c.geom1 == og else c.geom1 if c.geom2 == og else -1
                if other < 0 or other not in self.gripper_geoms:
                    continue
                bname = m.body(int(m.geom_bodyid[other])).name
                left |= bname.startswith("left")
                right |= bname.startswith("right")
            return left and right

    def location_of(self, name: str) -> str:
        """Where an object is: a container name, 'gripper', 'table' or 'floor'."""
        pos, _ = self.object_pose(name)
        if pos[2] < -0.3:
            return "floor"
        if self.object_held(name) and pos[2] > 0.02 + self.scene.object(name).height / 2:
            return "gripper"
        for c in self.scene.containers:
            if c.contains_xy(float(pos[0]), float(pos[1])) and pos[2] < c.size[2] + CONTAINER_FLOOR + 0.15:
                return c.name
        if abs(pos[0] - 0.35) <= 0.6 and abs(pos[1]) <= 0.75:
            return "table"
        return "floor"

    def world_state(self) -> dict[str, str]:
        """Object name -> container / 'gripper' / 'table' / 'floor', from positions (what the scorers read)."""
        with self.lock:
            return {o.name: self.location_of(o.name) for o in self.scene.objects}

    def objects_in(self, container: str) -> list[str]:
        return [n for n, loc in self.world_state().items() if loc == container]


def yaw_from_quat(q: np.ndarray) -> float:
    """Rotation about world z of a (w, x, y, z) quaternion whose body is upright."""
    w, x, y, z = q
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
