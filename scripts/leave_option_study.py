"""Would the target resolver know a made-up target means "leave it where it is"? (README, grounding; not shipped.)

For each task whose seed-0 coc-interweave program sent objects to a target that shares no word with any place
('home', 'keepaway', '碗'), the grammar-constrained resolver's answer with the places only (before, as shipped), with
"leave it where it is" added last (now) and first (first), and the Yes-minus-No log-odds of a separate question
"does it mean the object stays?" (yn). Local model, ~3 min alone; output: docs/results/leave_option_study.txt.

    .venv/bin/python scripts/leave_option_study.py docs/results/bench_robot.json
"""
from __future__ import annotations

import ast
import json
import sys
import threading

from coc_ros.bench.robot_tasks import load_tasks
from coc_ros.core.names import given_words, ground_name, name_tokens, place_words, resolution_options
from coc_ros.engine.prompts import FewShot
from coc_ros.engine.runner import Engine, _Run
from coc_ros.llm.factory import make_llm
from coc_ros.robot.api import STAY_WORDS, RobotAPI, SafetyConfig
from coc_ros.sim.backend import SimSkillBackend

LEAVE_OPTION = "leave it where it is"


def names_no_place(given: str, places: list[str], colours: dict[str, str]) -> bool:
    """No word of the target (nor its colour) belongs to any place."""
    words = given_words(given)
    return bool(words) and not words & set().union(*(place_words(p, colours) for p in places))


def made_up_targets(program: str, places: list[str], colours: dict[str, str], objects: list[str]) -> list[str]:
    """String targets of pick_place that are no place, no object, no stay words and share no word with a place."""
    found: list[str] = []
    for node in ast.walk(ast.parse(program)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "pick_place" and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            continue
        given = node.args[1].value
        stays = bool(name_tokens(given)) and set(name_tokens(given)) <= STAY_WORDS
        if (given in places or ground_name(given, places + objects) or stays
                or not names_no_place(given, places, colours) or given in found):
            continue
        found.append(given)
    return found


def stays_logodds(llm, instruction: str, given: str, places: list[str]) -> float:
    messages = [{"role": "system", "content": "You answer questions about a robot's instructions with Yes or No."},
                {"role": "user", "content": f"Instruction: {instruction}\nThe robot's program calls pick_place(obj, "
                                            f"{given!r}), but no place is called {given!r}; the places are "
                                            f"{', '.join(places)}. Does {given!r} mean the object is to stay where "
                                            "it is, on the table? Answer Yes or No."}]
    scores = llm.score_options(messages, ["Yes", "No"])
    return scores["Yes"] - scores["No"]


def main(paths: list[str]) -> None:
    tasks = {t.name: t for t in load_tasks("all")}
    llm = make_llm("local")
    for path in paths:
        for r in json.load(open(path))["results"]:
            if r["mode"] != "coc-interweave" or r["seed"] != 0 or not r["program"]:
                continue
            task = tasks[r["task"]]
            backend = SimSkillBackend(task.scene, seed=task.seed, perception="camera")
            robot = RobotAPI(backend, SafetyConfig(velocity_scaling=1.0))
            places, colours = robot.places(), robot.place_colors()
            try:
                givens = made_up_targets(r["program"], places, colours, robot.object_names())
            except SyntaxError:
                givens = []
            run = _Run(Engine(llm, robot=robot), task.instruction, "study", None, threading.Event(), FewShot(), 600)
            run.places, run.result.program = places, r["program"]
            for given in givens:
                options = resolution_options(given, places, colours)
                before = run._ask_target(given, options)
                now = run._ask_target(given, options + [LEAVE_OPTION])
                first = run._ask_target(given, [LEAVE_OPTION] + options)
                yn = stays_logodds(llm, task.instruction, given, places)
                print(f"{r['task']:34} {given!r:20} before={before!r:18} now={now!r:18} first={first!r:18} "
                      f"yn={yn:+.2f}", flush=True)
            backend.close()


if __name__ == "__main__":
    main(sys.argv[1:])
