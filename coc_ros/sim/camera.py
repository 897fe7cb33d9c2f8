"""Headless rendering (RGB, depth, segmentation) of a SimWorld on one dedicated thread.

An EGL/OSMesa context belongs to the thread that made it current; ROS callbacks arrive on arbitrary threads, so
every render runs on a single worker thread that owns the renderer and its own MjData (filled from a qpos snapshot,
so rendering never holds the world's lock while it draws).
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")  # must precede the first mujoco GL import; harmless if already set

import mujoco
import numpy as np


@dataclasses.dataclass
class Frame:
    """One camera image set with what is needed to lift pixels to 3D."""

    rgb: np.ndarray  # HxWx3 uint8
    depth: np.ndarray | None  # HxW metres along the optical axis
    seg: np.ndarray | None  # HxW geom id (-1 background)
    cam_pos: np.ndarray  # camera position (world)
    cam_mat: np.ndarray  # 3x3 camera frame in world (columns: x right, y up, z backwards)
    fovy: float  # degrees
    time: float

    @property
    def intrinsics(self) -> tuple[float, float, float]:
        """Pinhole f (pixels), cx, cy: f = 0.5*H/tan(fovy/2)."""
        h, w = self.rgb.shape[:2]
        f = 0.5 * h / math.tan(math.radians(self.fovy) / 2)
        return f, (w - 1) / 2.0, (h - 1) / 2.0

    def points(self) -> np.ndarray:
        """HxWx3 world points from depth (MuJoCo cameras look along -z with y up)."""
        assert self.depth is not None
        h, w = self.depth.shape
        f, cx, cy = self.intrinsics
        u, v = np.meshgrid(np.arange(w), np.arange(h))
        z = self.depth
        xc = (u - cx) * z / f
        yc = -(v - cy) * z / f
        pc = np.stack([xc, yc, -z], axis=-1)
        return pc @ self.cam_mat.T + self.cam_pos


class Camera:
    """Renders named cameras of a world's model; thread-safe (all GL work on one worker thread)."""

    def __init__(self, model: mujoco.MjModel, width: int = 640, height: int = 480):
        self.model = model
        self.width, self.height = width, height
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-render")
        self._renderer: mujoco.Renderer | None = None
        self._data: mujoco.MjData | None = None

    def _ensure(self) -> mujoco.Renderer:
        if self._renderer is None:
            backend = getattr(getattr(mujoco, "GLContext", None), "__module__", "")
            if "glfw" in backend and not os.environ.get("DISPLAY"):
                raise RuntimeError("headless rendering unavailable: mujoco was imported before MUJOCO_GL=egl was set "
                                   "and there is no DISPLAY; import coc_ros.sim before mujoco or export MUJOCO_GL=egl")
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
            self._data = mujoco.MjData(self.model)
        return self._renderer

    def _render(self, qpos: np.ndarray, t: float, camera: str, depth: bool, seg: bool, shadows: bool) -> Frame:
        r = self._ensure()
        d = self._data
        assert d is not None
        d.qpos[:] = qpos
        d.time = t
        mujoco.mj_kinematics(self.model, d)
        mujoco.mj_camlight(self.model, d)
        cam = self.model.camera(camera).id
        r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        r.update_scene(d, camera=camera)
        rgb = r.render().copy()
        dep = sg = None
        if depth:
            r.enable_depth_rendering()
            r.update_scene(d, camera=camera)
            dep = r.render().copy()
            r.disable_depth_rendering()
        if seg:
            r.enable_segmentation_rendering()
            r.update_scene(d, camera=camera)
            s = r.render()
            # channel 0 = object id, channel 1 = object type; keep geom ids only
            sg = np.where(s[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM), s[..., 0], -1).astype(np.int32)
            r.disable_segmentation_rendering()
        return Frame(rgb, dep, sg, d.cam_xpos[cam].copy(), d.cam_xmat[cam].reshape(3, 3).copy(),
                     float(self.model.cam_fovy[cam]), t)

    def capture(self, qpos: np.ndarray, t: float = 0.0, camera: str = "top", depth: bool = True, seg: bool = False,
                shadows: bool = False) -> Frame:
        """Render now (blocking) from the given state."""
        return self._pool.submit(self._render, qpos.copy(), t, camera, depth, seg, shadows).result()

    def save_png(self, qpos: np.ndarray, path: str | Path, camera: str = "overview") -> Path:
        """Write an RGB PNG a person can look at."""
        from PIL import Image

        frame = self.capture(qpos, camera=camera, depth=False, seg=False, shadows=True)
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame.rgb).save(p)
        return p

    def close(self) -> None:
        def _free() -> None:
            if self._renderer is not None:
                self._renderer.close()
                self._renderer = None

        try:
            self._pool.submit(_free).result(timeout=5)
        except Exception:
            pass
        self._pool.shutdown(wait=False)
