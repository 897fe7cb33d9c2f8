"""Natural-language robot tasks over the simulated scenes: loaded from data files, scored by declarative rules.

Tasks live in `bench/data/robot_tasks.yaml` (development split), `bench/data/robot_tasks_heldout.yaml` (held-out:
nothing is tuned on it; see the rule at its top), `bench/data/robot_tasks_fresh.yaml` (fresh: a second held-out set,
mostly on scenes no prompt was written against, under the same rule and reported separately),
`bench/data/robot_tasks_blind.yaml` (blind: a third held-out set, written without seeing the engine's prompts or
few-shot programs, mostly on two more new scenes; the tuner never reads it, reported separately),
`bench/data/robot_tasks_sealed.yaml` (sealed: a fourth held-out set under the blind split's rule, on two further new
scenes, never tuned on, reported separately), `bench/data/robot_tasks_vault.yaml` (vault: a fifth held-out set
under the same rule, on two more new scenes, never tuned on, reported separately),
`bench/data/robot_tasks_reserve.yaml` (reserve: a sixth held-out set under the same rule, on two more new scenes,
never tuned on, reported separately), `bench/data/robot_tasks_cellar.yaml` (cellar: a seventh held-out set under the
same rule, on two more new scenes, never tuned on, reported separately), `bench/data/robot_tasks_annex.yaml`
(annex: an eighth held-out set under the same rule, on two more new scenes, never tuned on, reported separately),
`bench/data/robot_tasks_loft.yaml` (loft: a ninth held-out set under the same rule, on two more new scenes, never
tuned on, reported separately), `bench/data/robot_tasks_attic.yaml` (attic: a tenth held-out set under the same
rule, on two more new scenes, never tuned on, reported separately), `bench/data/robot_tasks_porch.yaml` (porch: an
eleventh held-out set under the same rule, on two more new scenes, never tuned on, reported separately),
`bench/data/robot_tasks_shed.yaml` (shed: a twelfth held-out set under the same rule, on two more new scenes, never
tuned on, reported separately), `bench/data/robot_tasks_barn.yaml` (barn: a thirteenth held-out set under the same
rule, on two more new scenes, never tuned on, reported separately), `bench/data/robot_tasks_yard.yaml` (yard: a
fourteenth held-out set under the same rule, on two more new scenes, never tuned on, reported separately),
`bench/data/robot_tasks_dock.yaml` (dock: a fifteenth held-out set under the same rule, on two more new scenes, never
tuned on, reported separately), `bench/data/robot_tasks_quay.yaml` (quay: a sixteenth held-out set under the same
rule, on two more new scenes, never tuned on, reported separately), `bench/data/robot_tasks_pier.yaml` (pier: a
seventeenth held-out set under the same rule, on two more new scenes, never tuned on, reported separately) and
`bench/data/robot_tasks_wharf.yaml` (wharf: an eighteenth held-out set under the same rule, on two more new scenes,
never tuned on, reported separately).
Scorers read only the simulator's final `world_state()` (object -> container/'table'/...), the scene's scorer-only
attributes (vegan, recyclable, material, ...; perception never sees them) and, for counting tasks, what the robot
said. Where common sense allows two answers the rules accept both.

Reference programs use the robot API: `detect_objects()`, `pick_place(obj, target)`, `say(text)`,
`get_color(obj)`, `get_shape(obj)` (the detected class: cube, can, ...), and semantic helpers such as
`is_recyclable(obj)` left undefined on purpose (in Chain of Code the LM simulates them). With `oracle_helpers` they
run in the simulator to prove each task solvable.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib.resources
import re
from typing import Any
from collections.abc import Callable, Iterable

import yaml

from coc_ros.bench.robot_decisions import attribute_of, scene_attributes
from coc_ros.engine.lmulator_protocol import SimReply, SimRequest
from coc_ros.sim.scene import Scene, load_scene

Allowed = dict[str, set[str]]
SPLITS = ("dev", "heldout", "fresh", "blind", "sealed", "vault", "reserve", "cellar", "annex", "loft", "attic",
          "porch", "shed", "barn", "yard", "dock", "quay", "pier", "wharf")
_FILES = {"dev": "robot_tasks.yaml", "heldout": "robot_tasks_heldout.yaml", "fresh": "robot_tasks_fresh.yaml",
          "blind": "robot_tasks_blind.yaml", "sealed": "robot_tasks_sealed.yaml", "vault": "robot_tasks_vault.yaml",
          "reserve": "robot_tasks_reserve.yaml", "cellar": "robot_tasks_cellar.yaml",
          "annex": "robot_tasks_annex.yaml", "loft": "robot_tasks_loft.yaml", "attic": "robot_tasks_attic.yaml",
          "porch": "robot_tasks_porch.yaml", "shed": "robot_tasks_shed.yaml", "barn": "robot_tasks_barn.yaml",
          "yard": "robot_tasks_yard.yaml", "dock": "robot_tasks_dock.yaml", "quay": "robot_tasks_quay.yaml",
          "pier": "robot_tasks_pier.yaml", "wharf": "robot_tasks_wharf.yaml"}
_SPEC_KEYS = {"name", "color", "shape", "category"}  # what the camera knows; other keys are scene attributes


class TaskError(ValueError):
    """A task file is malformed; the message names the file, the task and the field."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """Objects matching `where` must end in one of `to` ('table' = must not move)."""

    where: dict[str, Any]
    to: frozenset[str]


@dataclasses.dataclass(frozen=True)
class RobotTask:
    name: str
    scene: str
    instruction: str
    program: str  # reference program in the robot API
    rules: tuple[Rule, ...]
    kinds: tuple[str, ...] = ()
    answer: tuple[int, ...] = ()  # acceptable counts the robot must say (counting tasks)
    split: str = "dev"
    seed: int = 0  # first layout seed; a run over n seeds uses seed .. seed + n - 1

    def expected(self, scene: Scene) -> Allowed:
        """Object -> acceptable final locations, for the objects some rule matches (the rest: 'table')."""
        out: Allowed = {}
        for o in scene.objects:
            for rule in self.rules:
                if matches(o, rule.where):
                    out[o.name] = set(rule.to)
                    break
        return out

    def answer_ok(self, said: Iterable[str]) -> bool:
        """A counting task's answer is right when one of the acceptable counts is among the numbers said."""
        return not self.answer or bool(set(self.answer) & numbers_in(" ".join(said)))

    def score(self, world_state: dict[str, str], scene: Scene | None = None, said: Iterable[str] = ()) -> float:
        """Fraction of the checks passed: one per object (its final place) plus the answer of a counting task."""
        sc = scene or load_scene(self.scene)
        allowed = self.expected(sc)
        ok = sum(world_state.get(o, "missing") in allowed.get(o, {"table"}) for o in sc.object_names)
        if not self.answer:
            return ok / len(sc.object_names)
        return (ok + self.answer_ok(said)) / (len(sc.object_names) + 1)

    def success(self, world_state: dict[str, str], scene: Scene | None = None, said: Iterable[str] = ()) -> bool:
        return self.score(world_state, scene, said) == 1.0


def matches(obj: Any, where: dict[str, Any]) -> bool:
    """Whether an ObjectSpec satisfies a rule's `where` (all keys must hold; a list value means any of)."""
    for key, want in where.items():
        if key == "not":
            if matches(obj, want):
                return False
        elif key == "any":
            if not any(matches(obj, w) for w in want):
                return False
        else:
            have = {"name": obj.name, "color": obj.color.name, "shape": obj.shape,
                    "category": obj.category}[key] if key in _SPEC_KEYS else obj.attributes.get(key)
            if have not in (want if isinstance(want, list) else [want]):
                return False
    return True


_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_ZH = {c: i for i, c in enumerate("零一二三四五六七八九十")} | {"两": 2}


def numbers_in(text: str) -> set[int]:
    """Counts stated in text: digits not part of a name (tomato_2), English number words, Chinese numerals before a
    measure word (三个)."""
    found = {int(m) for m in re.findall(r"(?<![A-Za-z0-9_.])\d+(?![A-Za-z0-9_]|\.\d)", text)}
    found |= {_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _WORDS}
    for num in re.findall(r"([零一二两三四五六七八九十]+)\s*[个件样只块种瓶罐片]", text):
        if num == "十":
            found.add(10)
        elif len(num) == 1:
            found.add(_ZH[num])
        elif len(num) == 2 and num[0] == "十":
            found.add(10 + _ZH[num[1]])
    return found


# -- loading ---------------------------------------------------------------------------------------------------

def load_tasks(split: str = "dev") -> list[RobotTask]:
    """The tasks of one split ('dev', 'heldout', 'fresh', 'blind', 'sealed', 'vault', 'reserve', 'cellar', 'annex',
    'loft', 'attic', 'porch', 'shed', 'barn', 'yard', 'dock', 'quay', 'pier', 'wharf') or of all of them ('all');
    every task is validated against its scene."""
    if split == "all":
        return [t for s in SPLITS for t in load_tasks(s)]
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or all, got {split!r}")
    fname = _FILES[split]
    text = importlib.resources.files("coc_ros.bench").joinpath("data", fname).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
        raise TaskError(f"{fname}: expected a mapping with a 'tasks' list")
    return [_parse_task(t, fname, split) for t in data["tasks"]]


def _parse_task(raw: Any, fname: str, split: str) -> RobotTask:
    where = f"{fname}: task {raw.get('name', '?') if isinstance(raw, dict) else raw!r}"
    known = {"name", "scene", "kinds", "instruction", "program", "expect", "answer"}
    if not isinstance(raw, dict) or set(raw) - known or not {"name", "scene", "instruction", "program",
                                                             "expect"} <= set(raw):
        raise TaskError(f"{where}: needs name, scene, instruction, program, expect (allowed: {sorted(known)})")
    scene = load_scene(raw["scene"])
    try:
        ast.parse(raw["program"])
    except SyntaxError as exc:
        raise TaskError(f"{where}: reference program does not parse: {exc}") from None
    rules = []
    for rule in raw["expect"]:
        if not isinstance(rule, dict) or set(rule) - {"where", "to"} or "to" not in rule:
            raise TaskError(f"{where}: each expect rule is {{where: {{...}}, to: [places]}}, got {rule!r}")
        _check_where(rule.get("where", {}), scene, where)
        bad = set(rule["to"]) - set(scene.container_names) - {"table"}
        if bad:
            raise TaskError(f"{where}: unknown place(s) {sorted(bad)}; scene {scene.name} has "
                            f"{', '.join(scene.container_names)} and table")
        rules.append(Rule(dict(rule.get("where", {})), frozenset(rule["to"])))
    answer = raw.get("answer", [])
    answer = tuple(answer) if isinstance(answer, list) else (answer,)
    if not all(isinstance(a, int) for a in answer):
        raise TaskError(f"{where}: answer must be an integer or a list of integers")
    return RobotTask(name=raw["name"], scene=raw["scene"], instruction=" ".join(raw["instruction"].split()),
                     program=raw["program"], rules=tuple(rules), kinds=tuple(raw.get("kinds", ())), answer=answer,
                     split=split)


def _check_where(where: Any, scene: Scene, ctx: str) -> None:
    if not isinstance(where, dict):
        raise TaskError(f"{ctx}: 'where' must be a mapping, got {where!r}")
    attrs = scene_attributes(scene)
    for key, value in where.items():
        if key == "not":
            _check_where(value, scene, ctx)
        elif key == "any":
            for w in value:
                _check_where(w, scene, ctx)
        elif key not in _SPEC_KEYS and key not in attrs:
            raise TaskError(f"{ctx}: 'where' key {key!r} is neither {sorted(_SPEC_KEYS)} nor an attribute of "
                            f"scene {scene.name} ({', '.join(sorted(attrs))})")


_TASKS: dict[str, RobotTask] = {}


def get_task(name: str) -> RobotTask:
    """A task of any split by name."""
    if not _TASKS:
        _TASKS.update({t.name: t for t in load_tasks("all")})
    if name not in _TASKS:
        raise KeyError(f"unknown robot task {name!r}; known: {', '.join(_TASKS)}")
    return _TASKS[name]


# -- oracle helpers: the LM's part, answered from the scene, to prove each task solvable -----------------------

_WARM = {"red", "orange", "yellow", "pink", "brown"}


def oracle_helpers(scene: Scene, helpers: Iterable[str]) -> dict[str, Callable[..., Any]]:
    """Stand-ins for the semantic helpers a program calls: yes/no helpers from the attribute that
    `robot_decisions.attribute_of` maps them to (`maybe` answers yes: the rules accept both), `material(obj)`
    and `is_warm_color(colour)` from the catalogue."""
    attrs = scene_attributes(scene)
    out: dict[str, Callable[..., Any]] = {
        "material": lambda obj: scene.object(obj).attributes.get("material", "unknown"),
        "is_warm_color": lambda c: c in _WARM,
    }
    for helper in helpers:
        attr = attribute_of(helper, attrs)
        if helper not in out and attr is not None:
            out[helper] = lambda obj, *_, _a=attr: scene.object(obj).attributes.get(_a) in (True, "maybe")
    return out


def called_names(program: str) -> set[str]:
    return {n.func.id for n in ast.walk(ast.parse(program)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def run_reference(task: RobotTask, backend: Any, velocity_scaling: float = 1.0) -> tuple[float, list[str]]:
    """Execute a task's reference program through the checked robot API (detect_objects, pick_place, say,
    get_color, get_shape, get_size: what generated programs get) with oracle helpers for the semantic questions;
    return (score, said lines)."""
    from coc_ros.robot.api import RobotAPI, SafetyConfig

    robot = RobotAPI(backend, SafetyConfig(velocity_scaling=velocity_scaling))
    env: dict[str, Any] = dict(oracle_helpers(backend.scene, called_names(task.program)))
    env.update({name: (lambda *a, _n=name, **k: robot.call(_n, list(a), k)) for name in robot.functions})
    exec(compile(task.program, f"<task {task.name}>", "exec"), env)
    return task.score(backend.world_state(), backend.scene, robot.said), list(robot.said)


class OracleDecisions:
    """A diagnostic LMulator: yes/no decisions about a detected object come from the scene's scorer-only
    attributes (as `oracle_helpers` answers them), every other request goes to the real LMulator.

    It answers "if every yes/no decision were right, how often would the model's own programs succeed?", which
    splits the failures of coc-interweave into the program writer's and the decisions'. Never used by a robot."""

    def __init__(self, inner: Any, scene: Scene):
        self.inner = inner
        self.scene = scene
        self.attributes = scene_attributes(scene)

    def simulate(self, request: SimRequest) -> SimReply:
        hints = request.hints or {}
        helper, args = str(hints.get("helper", "")), list(hints.get("args") or [])
        attr = attribute_of(helper, self.attributes) if hints.get("decision") == "bool" else None
        if attr is None or not args or args[0] not in self.scene.object_names:
            return self.inner.simulate(request)
        value = repr(self.scene.object(args[0]).attributes.get(attr) in (True, "maybe"))
        return SimReply(value=value, raw=value, detail={"decision": "bool", "helper": helper, "args": args,
                                                        "oracle": True})
