"""Object detection from the simulated top camera.

Two backends with the same output:
- `CameraDetector` sees only pixels: RGB + depth of the top camera, plus what a real cell knows up front (camera
  pose/intrinsics, where the table and the bins are, and a closed-vocabulary catalogue of object looks: colour,
  shape, size). It segments by height above the known static surfaces, labels pixels by the nearest catalogue
  colour, measures each blob in 3D and names it by matching colour + shape + size, like a closed-vocabulary
  detector. It never reads object poses from the simulator.
- `GroundTruthDetector` groups pixels by the renderer's segmentation ids (the reference).
Both lift a blob to 3D the same way: top-surface points from depth -> centre x, y; top z minus half the known
height -> centre z (the camera sees the top, so the raw mean would be biased upwards).
"""
from __future__ import annotations

import colorsys
import dataclasses
import itertools
import math

import cv2
import numpy as np

from coc_ros.robot.backend import Detection
from coc_ros.sim.camera import Camera, Frame
from coc_ros.sim.scene import CONTAINER_FLOOR, WALL, ObjectSpec, Scene

MIN_PIXELS = 40
MAX_OBJECT_Z = 0.2  # anything higher is the robot
BASE_RADIUS = 0.2  # around the robot's base


@dataclasses.dataclass
class Blob:
    """A measured image region: top-face centre, size and shape cues."""

    label: str  # colour label (camera) or object name (ground truth)
    pixels: int
    center_xy: np.ndarray
    top_z: float
    dims: tuple[float, float]  # top-face extents (short, long) in metres
    yaw: float  # direction of the top face's short side (closing direction for a grasp)
    roundness: float  # top-face area / min-area-rectangle area: ~0.785 round, ~1 square
    curvature: float  # z drop from the top at the blob's rim relative to its width (spheres high)
    mean_hsv: np.ndarray


@dataclasses.dataclass
class ObjectEstimate:
    """What a detector says about one named object (more than Detection carries: yaw for the grasp)."""

    name: str
    position: np.ndarray
    yaw: float
    size: tuple[float, float, float]
    score: float
    spec: ObjectSpec

    def to_detection(self) -> Detection:
        o = self.spec
        return Detection(id=self.name, class_id=o.category or o.shape, score=float(round(self.score, 3)),
                         position=tuple(float(round(v, 4)) for v in self.position),  # type: ignore[arg-type]
                         size=tuple(float(round(v, 4)) for v in self.size),  # type: ignore[arg-type]
                         color=o.color.name)


def _hsv_feature(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """OpenCV HSV (H 0-180) -> a space where hue is circular and only counts when saturated."""
    ang = h.astype(np.float32) * (2 * math.pi / 180.0)
    sat = s.astype(np.float32) / 255.0
    val = v.astype(np.float32) / 255.0
    return np.stack([sat * np.cos(ang), sat * np.sin(ang), 0.6 * val], axis=-1)


def _rgba_feature(rgba: tuple[float, ...]) -> np.ndarray:
    h, s, v = colorsys.rgb_to_hsv(*rgba[:3])
    return _hsv_feature(np.array(h * 180.0), np.array(s * 255.0), np.array(v * 255.0))


class _Lifter:
    """Shared geometry: static-surface masks and blob measurement from a depth frame."""

    def __init__(self, scene: Scene):
        self.scene = scene

    def foreground(self, pts: np.ndarray) -> np.ndarray:
        """Pixels that stick out of the table / container floors and are not bin walls or the robot."""
        x, y, z = pts[..., 0], pts[..., 1], pts[..., 2]
        fg = (z > 0.006) & (z < MAX_OBJECT_Z) & (x * x + y * y > BASE_RADIUS ** 2)
        for c in self.scene.containers:
            hx, hy = c.size[0] / 2, c.size[1] / 2
            dx, dy = np.abs(x - c.pos[0]), np.abs(y - c.pos[1])
            inside = (dx <= hx + 0.004) & (dy <= hy + 0.004)
            wall = inside & ((dx >= hx - WALL - 0.004) | (dy >= hy - WALL - 0.004))
            floor = inside & (z < CONTAINER_FLOOR + 0.006)
            fg &= ~(wall | floor)
        return fg

    def measure(self, label: str, mask: np.ndarray, pts: np.ndarray, hsv: np.ndarray) -> Blob | None:
        n = int(mask.sum())
        if n < MIN_PIXELS:
            return None
        P = pts[mask]
        top_z = float(np.percentile(P[:, 2], 98))
        top = P[P[:, 2] >= top_z - 0.008]
        if len(top) < 10:
            top = P[P[:, 2] >= top_z - 0.02]
        xy = top[:, :2].astype(np.float32)
        (cx, cy), (w, h), ang = cv2.minAreaRect(xy)
        # yaw of the rectangle's short side
        ang_r = math.radians(ang)
        yaw = ang_r if w <= h else ang_r + math.pi / 2
        short, long_ = (w, h) if w <= h else (h, w)
        # roundness of the top face: its pixel count over the rectangle's, in image space
        tmask = np.zeros(mask.shape, np.uint8)
        ys, xs = np.nonzero(mask)
        sel = pts[ys, xs, 2] >= top_z - 0.008
        tmask[ys[sel], xs[sel]] = 1
        cnts, _ = cv2.findContours(tmask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        roundness = 1.0
        if cnts:
            c = max(cnts, key=cv2.contourArea)
            rect = cv2.minAreaRect(c)
            ra = rect[1][0] * rect[1][1]
            if ra > 0:
                roundness = float(cv2.contourArea(c) / ra)
        # spheres: the visible surface falls away from the top towards the rim
        cen = np.array([cx, cy])
        d = np.linalg.norm(P[:, :2] - cen, axis=1)
        rim = P[d > 0.7 * max(d.max(), 1e-6)]
        curvature = float((top_z - np.median(rim[:, 2])) / max(long_, 1e-3)) if len(rim) else 0.0
        # centre: top-face centroid (robust to the perspective-visible sides)
        center = np.median(top[:, :2], axis=0) if len(top) > 30 else cen
        center = 0.5 * (center + cen)
        return Blob(label, n, np.asarray(center, float), top_z, (float(short), float(long_)), yaw, roundness,
                    curvature, np.median(hsv[mask], axis=0))

    def support_z(self, x: float, y: float) -> float:
        for c in self.scene.containers:
            if c.contains_xy(x, y):
                return CONTAINER_FLOOR
        return 0.0

    def estimate(self, spec: ObjectSpec, blob: Blob, score: float) -> ObjectEstimate:
        h = spec.height
        z = blob.top_z - h / 2
        z = max(z, self.support_z(*blob.center_xy) + h / 2 - 0.01)
        ex = spec.extents
        yaw = blob.yaw if spec.shape == "box" else 0.0  # direction of the top face's short side
        return ObjectEstimate(spec.name, np.array([blob.center_xy[0], blob.center_xy[1], z]), yaw,
                              (ex[0], ex[1], ex[2]), score, spec)


class CameraDetector:
    """Closed-vocabulary detector from RGB-D pixels; see the module docstring."""

    def __init__(self, scene: Scene, camera: Camera):
        self.scene = scene
        self.camera = camera
        self.lifter = _Lifter(scene)
        # colour vocabulary: one entry per distinct colour name in the catalogue
        self.colors: dict[str, np.ndarray] = {}
        for o in scene.objects:
            self.colors.setdefault(o.color.name, _rgba_feature(o.color.rgba))
        self.color_names = list(self.colors)
        self.last_xy: dict[str, np.ndarray] = {}  # identities of look-alikes follow their last position

    def note_moved(self, name: str, xy: np.ndarray) -> None:
        """The robot moved `name` to `xy`: keep look-alike identities (tomato_1 vs tomato_2) stable."""
        self.last_xy[name] = np.asarray(xy[:2], float)

    def blobs(self, frame: Frame) -> list[Blob]:
        pts = frame.points()
        fg = self.lifter.foreground(pts)
        hsv = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2HSV)
        feat = _hsv_feature(hsv[..., 0], hsv[..., 1], hsv[..., 2])
        refs = np.stack([self.colors[n] for n in self.color_names])
        dist = np.linalg.norm(feat[..., None, :] - refs[None, None], axis=-1)
        label = np.argmin(dist, axis=-1)
        ok = fg & (np.min(dist, axis=-1) < 0.25)
        out: list[Blob] = []
        kernel = np.ones((3, 3), np.uint8)
        for k, cname in enumerate(self.color_names):
            m = ((label == k) & ok).astype(np.uint8)
            m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
            n, comp = cv2.connectedComponents(m, connectivity=8)
            for i in range(1, n):
                mask = comp == i
                out.extend(self._split(cname, mask, pts, hsv))
        return out

    def _split(self, cname: str, mask: np.ndarray, pts: np.ndarray, hsv: np.ndarray) -> list[Blob]:
        """Touching look-alikes (two tomatoes in one pot) form one blob: split by k-means on 3D x, y if too big."""
        blob = self.lifter.measure(cname, mask, pts, hsv)
        if blob is None:
            return []
        cands = [o for o in self.scene.objects if o.color.name == cname]
        if not cands:
            return [blob]
        max_long = max(max(o.extents[:2]) for o in cands)
        if blob.dims[1] < 1.6 * max_long or len(cands) < 2:
            return [blob]
        k = min(len(cands), max(2, int(round(blob.dims[1] / max_long))))
        ys, xs = np.nonzero(mask)
        data = pts[ys, xs, :2].astype(np.float32)
        crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 1e-4)
        _, lab, _ = cv2.kmeans(data, k, None, crit, 3, cv2.KMEANS_PP_CENTERS)
        out = []
        for j in range(k):
            sub = np.zeros_like(mask)
            sel = lab.ravel() == j
            sub[ys[sel], xs[sel]] = True
            b = self.lifter.measure(cname, sub, pts, hsv)
            if b is not None:
                out.append(b)
        return out

    def _cost(self, o: ObjectSpec, b: Blob) -> float:
        """How unlike catalogue entry `o` the blob looks (size in cm, shape cues)."""
        ex = sorted(o.extents[:2])
        support = self.lifter.support_z(*b.center_xy)
        c = abs(b.top_z - support - o.height) * 100 * 1.0
        c += (abs(b.dims[0] - ex[0]) + abs(b.dims[1] - ex[1])) * 100 * 0.7
        round_obj = o.shape in ("cylinder", "sphere")
        c += 2.0 * abs(b.roundness - (0.785 if round_obj else 1.0)) * 10
        if o.shape == "sphere":
            c += 0.0 if b.curvature > 0.15 else 2.0
        elif b.curvature > 0.25:
            c += 2.0
        return c

    def detect(self, frame: Frame) -> list[ObjectEstimate]:
        blobs = self.blobs(frame)
        pairs = []
        for bi, b in enumerate(blobs):
            for o in self.scene.objects:
                if o.color.name == b.label:
                    pairs.append((self._cost(o, b), bi, o))
        pairs.sort(key=lambda t: t[0])
        used_b: set[int] = set()
        used_o: set[str] = set()
        chosen: list[tuple[float, Blob, ObjectSpec]] = []
        for cost, bi, o in pairs:
            if bi in used_b or o.name in used_o or cost > 8.0:
                continue
            used_b.add(bi)
            used_o.add(o.name)
            chosen.append((cost, blobs[bi], o))
        chosen = self._stable_identities(chosen)
        out = []
        for cost, b, o in chosen:
            est = self.lifter.estimate(o, b, math.exp(-cost / 4.0))
            self.last_xy[o.name] = est.position[:2].copy()
            out.append(est)
        return out

    def _stable_identities(self, chosen: list[tuple[float, Blob, ObjectSpec]]) -> list[tuple[float, Blob, ObjectSpec]]:
        """Among look-alikes (same colour, shape, size) give each blob the name whose last position is nearest."""
        def look(o: ObjectSpec) -> tuple:
            return (o.color.name, o.shape, o.size)

        groups: dict[tuple, list[int]] = {}
        for i, (_, _, o) in enumerate(chosen):
            groups.setdefault(look(o), []).append(i)
        result = list(chosen)
        for idx in groups.values():
            if len(idx) < 2:
                continue
            names = [chosen[i][2] for i in idx]
            blobs = [chosen[i][1] for i in idx]
            if any(o.name not in self.last_xy for o in names):
                # first sighting: the scene's naming convention for look-alikes (catalogue order = +y, then +x)
                order = sorted(range(len(blobs)), key=lambda j: (round(float(blobs[j].center_xy[1]), 2),
                                                                 float(blobs[j].center_xy[0])))
                names_sorted = sorted(names, key=lambda o: self.scene.object_names.index(o.name))
                for j, o in zip(order, names_sorted):
                    result[idx[j]] = (chosen[idx[j]][0], blobs[j], o)
                continue
            best, best_perm = float("inf"), None
            for perm in itertools.permutations(range(len(names))):
                s = sum(float(np.linalg.norm(blobs[j].center_xy - self.last_xy[names[perm[j]].name]))
                        for j in range(len(blobs)))
                if s < best:
                    best, best_perm = s, perm
            assert best_perm is not None
            for j in range(len(blobs)):
                result[idx[j]] = (chosen[idx[j]][0], blobs[j], names[best_perm[j]])
        return result


class GroundTruthDetector:
    """Reference detector: pixels grouped by segmentation geom id, named by the simulator's geom -> object map."""

    def __init__(self, scene: Scene, camera: Camera, geom_object: dict[int, str]):
        self.scene = scene
        self.camera = camera
        self.lifter = _Lifter(scene)
        self.geom_object = geom_object

    def note_moved(self, name: str, xy: np.ndarray) -> None:
        """Nothing to track: identities come from segmentation ids."""

    def detect(self, frame: Frame) -> list[ObjectEstimate]:
        assert frame.seg is not None
        pts = frame.points()
        hsv = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2HSV)
        out = []
        for g, name in self.geom_object.items():
            mask = frame.seg == g
            blob = self.lifter.measure(name, mask, pts, hsv)
            if blob is not None:
                out.append(self.lifter.estimate(self.scene.object(name), blob, 1.0))
        return out


def make_detector(kind: str, scene: Scene, camera: Camera, geom_object: dict[int, str]):
    """'camera' (pixels only) or 'ground_truth' (segmentation ids)."""
    if kind == "camera":
        return CameraDetector(scene, camera)
    if kind == "ground_truth":
        return GroundTruthDetector(scene, camera, geom_object)
    raise ValueError(f"perception must be 'camera' or 'ground_truth', got {kind!r}")
