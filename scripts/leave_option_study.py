"""Would the target resolver know a made-up target means "leave it where it is"? (README, grounding; not shipped.)

For each task whose seed-0 coc-interweave program sent objects to a target that shares no word with any place
('out', 'counter', 'home', '碗'), the grammar-constrained resolver's answer with the places only (before, as shipped),
with "leave it where it is" added last (now) and first (first), and the Yes-minus-No log-odds of a separate question
"does it mean the object stays?" (yn). Local model, ~3 min alone; output: docs/results/leave_option_study.txt.

    .venv/bin/python scripts/leave_option_study.py docs/results/bench_robot.json
"""
import json, ast, sys, threading
from coc_ros.bench.robot_tasks import load_tasks
from coc_ros.sim.backend import SimSkillBackend
from coc_ros.robot.api import RobotAPI, SafetyConfig, STAY_WORDS
from coc_ros.engine.runner import Engine, _Run
from coc_ros.engine.prompts import FewShot
from coc_ros.core.names import given_words, ground_name, name_tokens, place_words, resolution_options
from coc_ros.llm.factory import make_llm

LEAVE_OPTION = "leave it where it is"


def names_no_place(given: str, places: list[str], colours: dict[str, str]) -> bool:
    """No word of the target (nor its colour) belongs to any place."""
    words = given_words(given)
    return bool(words) and not words & set().union(*(place_words(p, colours) for p in places))


tasks = {t.name: t for t in load_tasks("all")}
llm = make_llm("local")
rows = []
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        if r["mode"] != "coc-interweave" or r["seed"] != 0 or not r["program"]:
            continue
        try:
            tree = ast.parse(r["program"])
        except SyntaxError:
            continue
        task = tasks[r["task"]]
        backend = SimSkillBackend(task.scene, seed=task.seed, perception="camera")
        robot = RobotAPI(backend, SafetyConfig(velocity_scaling=1.0))
        places, colours, objs = robot.places(), robot.place_colors(), robot.object_names()
        givens = []
        for n in ast.walk(tree):
            if (isinstance(n, ast.Call) and getattr(n.func, "id", None) == "pick_place" and len(n.args) > 1
                    and isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str)):
                v = n.args[1].value
                if v in places or ground_name(v, places + objs) or (name_tokens(v) and set(name_tokens(v)) <= STAY_WORDS):
                    continue
                if names_no_place(v, places, colours) and v not in givens:
                    givens.append(v)
        if givens:
            engine = Engine(llm, robot=robot)
            run = _Run(engine, task.instruction, "study", None, threading.Event(), FewShot(), 600)
            run.places = places
            run.result.program = r["program"]
            for g in givens:
                opts = resolution_options(g, places, colours)
                before = run._ask_target(g, opts)
                now = run._ask_target(g, opts + [LEAVE_OPTION])
                first = run._ask_target(g, [LEAVE_OPTION] + opts)
                msgs = [{"role": "system", "content": "You answer questions about a robot's instructions with Yes or No."},
                        {"role": "user", "content": f"Instruction: {task.instruction}\nThe robot's program calls "
                         f"pick_place(obj, {g!r}), but no place is called {g!r}; the places are {', '.join(places)}. "
                         f"Does {g!r} mean the object is to stay where it is, on the table? Answer Yes or No."}]
                sc = llm.score_options(msgs, ["Yes", "No"]); lo = sc["Yes"] - sc["No"]
                rows.append((r["task"], g, before, now, first, lo))
                print(f"{r['task']:34} {g!r:20} before={before!r:18} now={now!r:18} first={first!r:18} yn={lo:+.2f}", flush=True)
        backend.close()
