"""Model assembly: the robot (robot_model) + table, cameras, lights + a scene's containers and objects at their
seeded layout, compiled into one MuJoCo model.

Built in code with `mujoco.MjSpec` (not XML templates), the way mink's examples attach a scene to a menagerie
robot, so a scene file only has to say what is on the table.
"""
from __future__ import annotations

import math

import mujoco

from coc_ros.sim.layout import layout_objects
from coc_ros.sim.robot_model import HOME_KEY, robot_spec
from coc_ros.sim.scene import CONTAINER_FLOOR, FLOOR_Z, TABLE_TOP, WALL, Scene


def _quat_yaw(yaw: float) -> list[float]:
    return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]


def build_model(scene: Scene, seed: int) -> tuple[mujoco.MjModel, dict[str, tuple[float, float, float]]]:
    """Compile robot + table + containers + objects; return the model and the seeded (x, y, yaw) layout.

    The model's `home` keyframe is the start of every episode: arm at home, gripper open, objects at the layout."""
    layout = layout_objects(scene, seed)
    spec = robot_spec()
    spec.option.timestep = 0.002
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.stat.center = [0.4, 0.0, 0.1]
    spec.stat.extent = 1.0
    spec.visual.global_.offwidth = 1280
    spec.visual.global_.offheight = 960
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    spec.visual.headlight.diffuse = [0.3, 0.3, 0.3]
    spec.visual.headlight.specular = [0.05, 0.05, 0.05]
    wb = spec.worldbody
    wb.add_light(pos=[0.4, 0.0, 2.0], dir=[0, 0, -1], diffuse=[0.35, 0.35, 0.35],
                 specular=[0.05, 0.05, 0.05], castshadow=False)
    wb.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.01], pos=[0, 0, FLOOR_Z],
                rgba=[0.3, 0.32, 0.35, 1])
    wb.add_geom(name="table", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.6, 0.75, 0.025], pos=[0.35, 0, -0.025],
                rgba=[0.62, 0.6, 0.58, 1])
    for lx, ly in ((-0.2, -0.7), (-0.2, 0.7), (0.9, -0.7), (0.9, 0.7)):
        wb.add_geom(name=f"table_leg_{lx}_{ly}", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.03, 0.03, 0.36],
                    pos=[lx, ly, FLOOR_Z + 0.36], rgba=[0.4, 0.35, 0.3, 1], contype=0, conaffinity=0)
    # top-down camera for perception; image up = world +x, image right = world -y
    wb.add_camera(name="top", pos=[0.45, 0.0, 1.4], xyaxes=[0, -1, 0, 1, 0, 0], fovy=40)
    # a person's view of the table for render()
    wb.add_camera(name="overview", pos=[1.45, 0.0, 0.95], xyaxes=[0, 1, 0, -0.55, 0, 0.835], fovy=45)

    for c in scene.containers:
        b = wb.add_body(name=c.name, pos=[c.pos[0], c.pos[1], 0.0])
        sx, sy, h = c.size[0] / 2, c.size[1] / 2, c.size[2]
        rgba = list(c.color.rgba)
        b.add_geom(name=f"{c.name}/base", type=mujoco.mjtGeom.mjGEOM_BOX, size=[sx, sy, CONTAINER_FLOOR / 2],
                   pos=[0, 0, CONTAINER_FLOOR / 2], rgba=rgba)
        for k, (px, py, hx, hy) in enumerate(((sx - WALL / 2, 0, WALL / 2, sy), (-sx + WALL / 2, 0, WALL / 2, sy),
                                              (0, sy - WALL / 2, sx, WALL / 2), (0, -sy + WALL / 2, sx, WALL / 2))):
            b.add_geom(name=f"{c.name}/wall{k}", type=mujoco.mjtGeom.mjGEOM_BOX, size=[hx, hy, h / 2],
                       pos=[px, py, h / 2], rgba=rgba)

    home = spec.key(HOME_KEY)
    home_qpos = list(home.qpos)
    for o in scene.objects:
        x, y, yaw = layout[o.name]
        pos, quat = [x, y, TABLE_TOP + o.height / 2 + 0.001], _quat_yaw(yaw)
        home_qpos += pos + quat  # the keyframe covers every joint: robot at home, objects where the seed put them
        b = wb.add_body(name=o.name, pos=pos, quat=quat)
        b.add_freejoint(name=f"{o.name}/free")
        g = b.add_geom(name=o.name, rgba=list(o.color.rgba), mass=o.mass, friction=[1.2, 0.02, 0.002])
        if o.shape == "box":
            g.type = mujoco.mjtGeom.mjGEOM_BOX
            g.size = [o.size[0] / 2, o.size[1] / 2, o.size[2] / 2]
            g.condim = 4
        elif o.shape == "cylinder":
            g.type = mujoco.mjtGeom.mjGEOM_CYLINDER
            g.size = [o.size[0] / 2, o.size[1] / 2, 0]
            g.condim = 4
        else:
            g.type = mujoco.mjtGeom.mjGEOM_SPHERE
            g.size = [o.size[0] / 2, 0, 0]
            g.condim = 6  # rolling friction so spheres (tomatoes, eggs) stay where they are put
    home.qpos = home_qpos
    model = spec.compile()
    return model, layout
