"""Scene descriptions: the schema of a scene YAML (objects, containers, placement region) and its validator.

A scene says only *what* is on the table; `layout` places it from a seed, `robot_model` is the Panda, and
`assembly` joins them into one MuJoCo model. Robot frame = world frame: the Panda's base sits at the origin on the
table top (z = 0).
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from coc_ros.config import config_dir, load_yaml

SHAPES = ("box", "cylinder", "sphere")
# The 2F-85 opens to 85 mm; keep a margin so a slightly rotated object still fits between the pads.
MAX_GRASP_WIDTH = 0.07
TABLE_TOP = 0.0
FLOOR_Z = -0.75
CONTAINER_FLOOR = 0.01  # container base plate thickness (its top is the support surface inside)
WALL = 0.01  # container wall thickness


class SceneError(ValueError):
    """A scene file is malformed; the message names the file and the offending field."""


@dataclasses.dataclass(frozen=True)
class Color:
    name: str
    rgba: tuple[float, float, float, float]


@dataclasses.dataclass(frozen=True)
class ObjectSpec:
    """One graspable object. `size` is full extents: box [x, y, z], cylinder [diameter, height], sphere [diameter]."""

    name: str
    shape: str
    size: tuple[float, ...]
    color: Color
    mass: float
    category: str = ""
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)  # for scorers only, never for perception
    pos: tuple[float, float] | None = None  # fixed x, y (else random from the seed)

    @property
    def extents(self) -> tuple[float, float, float]:
        """Full bounding-box extents (x, y, z) in the object's frame."""
        if self.shape == "box":
            return (self.size[0], self.size[1], self.size[2])
        if self.shape == "cylinder":
            return (self.size[0], self.size[0], self.size[1])
        return (self.size[0],) * 3

    @property
    def height(self) -> float:
        return self.extents[2]

    @property
    def footprint_radius(self) -> float:
        ex = self.extents
        return 0.5 * math.hypot(ex[0], ex[1])


@dataclasses.dataclass(frozen=True)
class ContainerSpec:
    """An open tray (bin, pot, bowl, plate): base plate + four walls. `size` = [x, y, wall height]."""

    name: str
    pos: tuple[float, float]
    size: tuple[float, float, float]
    color: Color
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)

    def contains_xy(self, x: float, y: float, margin: float = 0.0) -> bool:
        return abs(x - self.pos[0]) <= self.size[0] / 2 + margin and abs(y - self.pos[1]) <= self.size[1] / 2 + margin


@dataclasses.dataclass(frozen=True)
class Scene:
    name: str
    description: str
    objects: tuple[ObjectSpec, ...]
    containers: tuple[ContainerSpec, ...]
    region: tuple[tuple[float, float], tuple[float, float]]  # x range, y range for random object placement
    source: str = ""

    def object(self, name: str) -> ObjectSpec:
        for o in self.objects:
            if o.name == name:
                return o
        raise KeyError(name)

    def container(self, name: str) -> ContainerSpec:
        for c in self.containers:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def object_names(self) -> list[str]:
        return [o.name for o in self.objects]

    @property
    def container_names(self) -> list[str]:
        return [c.name for c in self.containers]


def scenes_dir() -> Path:
    return config_dir() / "scenes"


def available_scenes() -> list[str]:
    return sorted(p.stem for p in scenes_dir().glob("*.yaml"))


def load_scene(name_or_path: str | Path) -> Scene:
    """Load a scene by name (config/scenes/<name>.yaml) or by path; raise SceneError with a clear message."""
    p = Path(name_or_path)
    if not p.suffix:
        p = scenes_dir() / f"{name_or_path}.yaml"
        if not p.is_file():
            raise SceneError(f"unknown scene '{name_or_path}'; available: {', '.join(available_scenes())}")
    try:
        data = load_yaml(p)
    except (FileNotFoundError, ValueError) as exc:
        raise SceneError(str(exc)) from None
    return parse_scene(data, source=str(p))


def _num_list(value: Any, n: int | tuple[int, ...], where: str, positive: bool = False) -> tuple[float, ...]:
    ns = (n,) if isinstance(n, int) else n
    if not isinstance(value, (list, tuple)) or len(value) not in ns:
        raise SceneError(f"{where}: expected a list of {' or '.join(map(str, ns))} numbers, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise SceneError(f"{where}: expected numbers, got {v!r}")
        if positive and v <= 0:
            raise SceneError(f"{where}: values must be > 0, got {v!r}")
        out.append(float(v))
    return tuple(out)


def _color(value: Any, where: str) -> Color:
    if not isinstance(value, dict) or "name" not in value or "rgba" not in value:
        raise SceneError(f"{where}: expected a mapping with 'name' and 'rgba', got {value!r}")
    rgba = _num_list(value["rgba"], (3, 4), f"{where}.rgba")
    if any(not 0.0 <= c <= 1.0 for c in rgba):
        raise SceneError(f"{where}.rgba: components must be in [0, 1], got {list(rgba)}")
    if len(rgba) == 3:
        rgba = rgba + (1.0,)
    return Color(str(value["name"]), rgba)  # type: ignore[arg-type]


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise SceneError(f"{where}: name must be an identifier-like string (e.g. red_cube), got {value!r}")
    return value


def _require(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise SceneError(f"{where}: missing required field '{key}'")
    return d[key]


def parse_scene(data: dict[str, Any], source: str = "<dict>") -> Scene:
    """Validate a scene mapping. Every error names the source file and field, so a typo is a one-line fix."""
    pre = f"scene {source}"
    if not isinstance(data, dict):
        raise SceneError(f"{pre}: expected a mapping at top level")
    known = {"name", "description", "region", "objects", "containers"}
    extra = set(data) - known
    if extra:
        raise SceneError(f"{pre}: unknown top-level field(s) {sorted(extra)}; allowed: {sorted(known)}")
    name = _name(_require(data, "name", pre), f"{pre}: name")
    region_raw = data.get("region", {"x": [0.33, 0.62], "y": [-0.22, 0.22]})
    if not isinstance(region_raw, dict) or "x" not in region_raw or "y" not in region_raw:
        raise SceneError(f"{pre}: region must be a mapping with x: [min, max] and y: [min, max]")
    rx = _num_list(region_raw["x"], 2, f"{pre}: region.x")
    ry = _num_list(region_raw["y"], 2, f"{pre}: region.y")
    if rx[0] >= rx[1] or ry[0] >= ry[1]:
        raise SceneError(f"{pre}: region ranges must be [min, max] with min < max")

    objs_raw = _require(data, "objects", pre)
    if not isinstance(objs_raw, list) or not objs_raw:
        raise SceneError(f"{pre}: objects must be a non-empty list")
    objects = []
    for i, o in enumerate(objs_raw):
        w = f"{pre}: objects[{i}]"
        if not isinstance(o, dict):
            raise SceneError(f"{w}: expected a mapping, got {o!r}")
        oname = _name(_require(o, "name", w), f"{w}.name")
        w = f"{pre}: objects[{i}] ({oname})"
        shape = _require(o, "shape", w)
        if shape not in SHAPES:
            raise SceneError(f"{w}: shape must be one of {', '.join(SHAPES)}, got {shape!r}")
        nsize = {"box": 3, "cylinder": 2, "sphere": 1}[shape]
        size = _num_list(_require(o, "size", w), nsize, f"{w}.size ({shape})", positive=True)
        mass = o.get("mass", 0.1)
        if isinstance(mass, bool) or not isinstance(mass, (int, float)) or not 0 < mass <= 2.0:
            raise SceneError(f"{w}: mass must be a number in (0, 2] kg, got {mass!r}")
        attrs = o.get("attributes", {})
        if not isinstance(attrs, dict):
            raise SceneError(f"{w}: attributes must be a mapping, got {attrs!r}")
        pos = _num_list(o["pos"], 2, f"{w}.pos") if "pos" in o else None
        spec = ObjectSpec(oname, shape, size, _color(_require(o, "color", w), f"{w}.color"), float(mass),
                          str(o.get("category", "")), dict(attrs), pos)  # type: ignore[arg-type]
        ex = spec.extents
        if min(ex[0], ex[1]) > MAX_GRASP_WIDTH:
            raise SceneError(f"{w}: too wide for the 2F-85 gripper ({min(ex[0], ex[1]) * 1000:.0f} mm > "
                             f"{MAX_GRASP_WIDTH * 1000:.0f} mm)")
        if ex[2] > 0.15 or max(ex) < 0.02:
            raise SceneError(f"{w}: size {list(size)} out of range (height <= 0.15 m, largest side >= 0.02 m)")
        objects.append(spec)

    cons_raw = _require(data, "containers", pre)
    if not isinstance(cons_raw, list) or not cons_raw:
        raise SceneError(f"{pre}: containers must be a non-empty list")
    containers = []
    for i, c in enumerate(cons_raw):
        w = f"{pre}: containers[{i}]"
        if not isinstance(c, dict):
            raise SceneError(f"{w}: expected a mapping, got {c!r}")
        cname = _name(_require(c, "name", w), f"{w}.name")
        w = f"{pre}: containers[{i}] ({cname})"
        cpos = _num_list(_require(c, "pos", w), 2, f"{w}.pos")
        csize = _num_list(_require(c, "size", w), 3, f"{w}.size [x, y, wall height]", positive=True)
        attrs = c.get("attributes", {})
        if not isinstance(attrs, dict):
            raise SceneError(f"{w}: attributes must be a mapping, got {attrs!r}")
        r = math.hypot(*cpos)
        if not 0.25 <= r <= 0.75:
            raise SceneError(f"{w}: pos {list(cpos)} is {r:.2f} m from the robot base; must be within 0.25-0.75 m")
        containers.append(ContainerSpec(cname, cpos, csize, _color(_require(c, "color", w), f"{w}.color"),
                                        dict(attrs)))  # type: ignore[arg-type]

    names = [o.name for o in objects] + [c.name for c in containers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SceneError(f"{pre}: duplicate names {dup} (objects and containers share one namespace)")
    reserved = {"table", "gripper", "floor"} & set(names)
    if reserved:
        raise SceneError(f"{pre}: names {sorted(reserved)} are reserved for locations")
    for a in range(len(containers)):
        for b in range(a + 1, len(containers)):
            ca, cb = containers[a], containers[b]
            if (abs(ca.pos[0] - cb.pos[0]) < (ca.size[0] + cb.size[0]) / 2 and
                    abs(ca.pos[1] - cb.pos[1]) < (ca.size[1] + cb.size[1]) / 2):
                raise SceneError(f"{pre}: containers {ca.name} and {cb.name} overlap")
    return Scene(name, str(data.get("description", "")), tuple(objects), tuple(containers), (rx, ry), source)
