"""Natural-language robot tasks over the simulated scenes, each with a scorer and a reference program.

Scorers read only the simulator's final `world_state()` (object -> container/'table'/...) and the scene's semantic
attributes (material, food group, ...), which perception never sees. Where common sense allows two answers (is a
tomato a vegetable?) the scorer accepts both.

Reference programs use the paper's robot API: `detect_objects()` -> list of object names, `pick_place(obj,
target)`, `say(text)`, and semantic helpers such as `is_recyclable(obj)` left undefined on purpose: in Chain of
Code the LM simulates them. They serve as few-shot examples and, with `oracle_helpers`, as executable tests.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from coc_ros.sim.scene import Scene, load_scene

Allowed = dict[str, set[str]]


@dataclasses.dataclass(frozen=True)
class RobotTask:
    name: str
    scene: str
    instruction: str
    program: str  # reference program in the robot API
    expected: Callable[[Scene], Allowed]  # object -> acceptable final locations (unlisted objects: 'table')
    answer: str | None = None  # what say() should contain, for counting tasks
    seed: int = 0

    def score(self, world_state: dict[str, str], scene: Scene | None = None) -> float:
        """Fraction of the scene's objects whose final location is acceptable (1.0 = task done)."""
        sc = scene or load_scene(self.scene)
        allowed = self.expected(sc)
        ok = sum(world_state.get(o, "missing") in allowed.get(o, {"table"}) for o in sc.object_names)
        return ok / len(sc.object_names)

    def success(self, world_state: dict[str, str], scene: Scene | None = None) -> bool:
        return self.score(world_state, scene) == 1.0


def _attr(scene: Scene, key: str, value: Any) -> list[str]:
    return [o.name for o in scene.objects if o.attributes.get(key) == value]


def _where(scene: Scene, pred: Callable[[Any], bool]) -> list[str]:
    return [o.name for o in scene.objects if pred(o)]


# -- expected outcomes -------------------------------------------------------------------------------------------

def _sort_waste(s: Scene) -> Allowed:
    out: Allowed = {}
    for o in s.objects:
        a = o.attributes
        out[o.name] = {"recycling_bin"} if a.get("recyclable") else {"compost_bin"} if a.get("compostable") \
            else {"trash_bin"}
    return out


def _compostables(s: Scene) -> Allowed:
    out: Allowed = {n: {"compost_bin"} for n in _attr(s, "material", "food")}
    for n in _attr(s, "material", "paper"):
        out[n] = {"compost_bin", "table"}  # paper is compostable in some municipalities, not in others
    return out


def _metal_plastic(s: Scene) -> Allowed:
    return {n: {"recycling_bin"} for n in _where(s, lambda o: o.attributes.get("material") in ("metal", "plastic"))}


def _throw_away_non_recyclable(s: Scene) -> Allowed:
    return {n: {"trash_bin", "compost_bin"} for n in _where(s, lambda o: not o.attributes.get("recyclable"))}


def _food_compost_rest_trash(s: Scene) -> Allowed:
    return {o.name: {"compost_bin"} if o.attributes.get("material") == "food" else {"trash_bin"} for o in s.objects}


def _stir_fry(s: Scene) -> Allowed:
    return {n: {"pot"} for n in _attr(s, "stir_fry_ingredient", True)}


def _not_food_in_box(s: Scene) -> Allowed:
    return {n: {"box"} for n in _where(s, lambda o: o.attributes.get("material") != "food")}


def _eggs_bowl_tomatoes_plate(s: Scene) -> Allowed:
    out: Allowed = {o.name: {"bowl"} for o in s.objects if o.category == "egg"}
    out.update({o.name: {"plate"} for o in s.objects if o.category == "tomato"})
    return out


def _count_tomatoes(s: Scene) -> Allowed:
    toms = [o.name for o in s.objects if o.category == "tomato"]
    return {n: {"pot"} if len(toms) >= 2 else {"bowl"} for n in toms}


def _vegetables(s: Scene) -> Allowed:
    out: Allowed = {o.name: {"bowl"} for o in s.objects if o.category == "pepper"}
    out.update({o.name: {"bowl", "table"} for o in s.objects if o.category == "tomato"})  # botanically a fruit
    return out


_BOWL_OF = {"red": "red_bowl", "green": "green_bowl", "blue": "blue_bowl"}


def _colour_match(s: Scene) -> Allowed:
    return {o.name: {_BOWL_OF.get(o.color.name, "box")} for o in s.objects}


def _count_cubes(s: Scene) -> Allowed:
    cubes = [o for o in s.objects if o.category == "cube"]
    return {"purple_cube": {"box"} if len(cubes) > 4 else {"blue_bowl"}}


def _warm(s: Scene) -> Allowed:
    out: Allowed = {o.name: {"red_bowl"} for o in s.objects if o.color.name in ("red", "yellow", "orange")}
    out.update({o.name: {"red_bowl", "table"} for o in s.objects if o.color.name == "purple"})  # borderline
    return out


def _cylinders(s: Scene) -> Allowed:
    return {o.name: {"box"} for o in s.objects if o.shape == "cylinder"}


def _primary_colours(s: Scene) -> Allowed:
    return {o.name: {"box"} for o in s.objects if o.color.name in ("red", "yellow", "blue")}


def _bottle_only(s: Scene) -> Allowed:
    return {o.name: {"recycling_bin"} for o in s.objects if o.category == "bottle"}


TASKS: list[RobotTask] = [
    RobotTask("sort_waste", "sort",
              "Sort the waste on the table: recyclables go in the recycling bin, compostables in the compost bin, "
              "and everything else in the trash bin.",
              """objs = detect_objects()
for obj in objs:
    if is_recyclable(obj):
        pick_place(obj, "recycling_bin")
    elif is_compostable(obj):
        pick_place(obj, "compost_bin")
    else:
        pick_place(obj, "trash_bin")
""", _sort_waste),
    RobotTask("compost_food", "sort",
              "Put the food scraps in the compost bin and leave everything else where it is.",
              """objs = detect_objects()
for obj in objs:
    if is_food(obj):
        pick_place(obj, "compost_bin")
""", _compostables),
    RobotTask("recycle_metal_plastic", "sort",
              "Put everything made of metal or plastic in the recycling bin.",
              """objs = detect_objects()
for obj in objs:
    if material(obj) in ("metal", "plastic"):
        pick_place(obj, "recycling_bin")
""", _metal_plastic),
    RobotTask("throw_away_non_recyclable", "sort",
              "Throw away whatever cannot be recycled; keep the recyclables on the table.",
              """objs = detect_objects()
for obj in objs:
    if not is_recyclable(obj):
        pick_place(obj, "compost_bin" if is_compostable(obj) else "trash_bin")
""", _throw_away_non_recyclable),
    RobotTask("food_compost_rest_trash", "sort",
              "Clear the table: food goes in the compost bin, all the rest in the trash bin. How many things went "
              "in the trash?",
              """objs = detect_objects()
n_trash = 0
for obj in objs:
    if is_food(obj):
        pick_place(obj, "compost_bin")
    else:
        pick_place(obj, "trash_bin")
        n_trash += 1
say(f"{n_trash} items went in the trash bin")
""", _food_compost_rest_trash, answer="3"),
    RobotTask("stir_fry", "kitchen",
              "I want to make a tomato and egg stir-fry. Put the ingredients in the pot.",
              """objs = detect_objects()
for obj in objs:
    if is_ingredient_of(obj, "tomato and egg stir-fry"):
        pick_place(obj, "pot")
""", _stir_fry),
    RobotTask("not_food_in_box", "kitchen",
              "Put everything that is not food in the box.",
              """objs = detect_objects()
for obj in objs:
    if not is_food(obj):
        pick_place(obj, "box")
""", _not_food_in_box),
    RobotTask("eggs_bowl_tomatoes_plate", "kitchen",
              "Put the eggs in the bowl and the tomatoes on the plate.",
              """objs = detect_objects()
for obj in objs:
    if "egg" in obj:
        pick_place(obj, "bowl")
    elif "tomato" in obj:
        pick_place(obj, "plate")
""", _eggs_bowl_tomatoes_plate),
    RobotTask("count_tomatoes", "kitchen",
              "Count the tomatoes and tell me how many there are. If there are at least two, put them all in the "
              "pot; otherwise put them in the bowl.",
              """objs = detect_objects()
tomatoes = [obj for obj in objs if "tomato" in obj]
say(f"There are {len(tomatoes)} tomatoes")
target = "pot" if len(tomatoes) >= 2 else "bowl"
for obj in tomatoes:
    pick_place(obj, target)
""", _count_tomatoes, answer="2"),
    RobotTask("vegetables_in_bowl", "kitchen",
              "Put all the vegetables in the bowl.",
              """objs = detect_objects()
for obj in objs:
    if is_vegetable(obj):
        pick_place(obj, "bowl")
""", _vegetables),
    RobotTask("colour_match", "blocks",
              "Put each block in the bowl of the same colour; blocks whose colour has no bowl go in the box.",
              """objs = detect_objects()
bowls = {"red": "red_bowl", "green": "green_bowl", "blue": "blue_bowl"}
for obj in objs:
    c = color(obj)
    pick_place(obj, bowls.get(c, "box"))
""", _colour_match),
    RobotTask("count_cubes", "blocks",
              "How many cubes are there? If there are more than four, put the purple cube in the box, otherwise "
              "in the blue bowl.",
              """objs = detect_objects()
cubes = [obj for obj in objs if obj.endswith("_cube")]
say(f"I see {len(cubes)} cubes")
pick_place("purple_cube", "box" if len(cubes) > 4 else "blue_bowl")
""", _count_cubes, answer="5"),
    RobotTask("warm_colours", "blocks",
              "Put all the blocks with warm colours in the red bowl.",
              """objs = detect_objects()
for obj in objs:
    if is_warm_color(color(obj)):
        pick_place(obj, "red_bowl")
""", _warm),
    RobotTask("cylinders_in_box", "blocks",
              "Put only the cylinders in the box.",
              """objs = detect_objects()
for obj in objs:
    if "cylinder" in obj:
        pick_place(obj, "box")
""", _cylinders),
    RobotTask("primary_colours_box", "blocks",
              "Put the blocks whose colour is a primary colour (red, yellow, blue) in the box.",
              """objs = detect_objects()
for obj in objs:
    if color(obj) in ("red", "yellow", "blue"):
        pick_place(obj, "box")
""", _primary_colours),
    RobotTask("recycle_bottle", "sort",
              "Recycle the bottle.",
              """objs = detect_objects()
for obj in objs:
    if "bottle" in obj:
        pick_place(obj, "recycling_bin")
""", _bottle_only),
]


def get_task(name: str) -> RobotTask:
    for t in TASKS:
        if t.name == name:
            return t
    raise KeyError(f"unknown robot task {name!r}; known: {', '.join(t.name for t in TASKS)}")


_WARM = {"red", "orange", "yellow", "pink", "brown"}


def oracle_helpers(scene: Scene) -> dict[str, Callable[..., Any]]:
    """Attribute-backed stand-ins for the semantic helpers, to execute reference programs in tests (the LM's job
    in Chain of Code)."""
    def a(obj: str, key: str, default: Any = None) -> Any:
        return scene.object(obj).attributes.get(key, default)

    return {
        "is_recyclable": lambda obj: bool(a(obj, "recyclable", False)),
        "is_compostable": lambda obj: bool(a(obj, "compostable", False)),
        "is_food": lambda obj: a(obj, "material") == "food",
        "material": lambda obj: a(obj, "material", "unknown"),
        "is_ingredient_of": lambda obj, dish: bool(a(obj, "stir_fry_ingredient", False)),
        "is_vegetable": lambda obj: a(obj, "food_group") == "vegetable",
        "color": lambda obj: scene.object(obj).color.name,
        "is_warm_color": lambda c: c in _WARM,
    }


def run_reference(task: RobotTask, backend: Any, velocity_scaling: float = 1.0) -> tuple[float, list[str]]:
    """Execute a task's reference program against a backend with oracle helpers; return (score, said lines)."""
    said: list[str] = []
    env: dict[str, Any] = dict(oracle_helpers(backend.scene))
    env.update({
        "detect_objects": lambda query="": [d.id for d in backend.detect_objects(query)],
        "pick_place": lambda obj, target: backend.pick_place(obj, target, velocity_scaling),
        "say": lambda text: said.append(str(text)),
    })
    exec(compile(task.program, f"<task {task.name}>", "exec"), env)  # noqa: S102 - our own reference code
    return task.score(backend.world_state(), backend.scene), said
