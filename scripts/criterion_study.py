"""Would a yes/no helper be decided better if the model first restated it in the instruction's words? (README; not
shipped.)

The writer often names a helper loosely (`is_risky(obj)` for "whatever we'd need in an emergency"), and the
LMulator asks the helper's own words ("Is the first aid pouch risky?"). The idea measured here: once per helper, the
model writes the yes/no question the test stands for, in the instruction's words, about an object X (three shots
written for situations no scene contains); each object is then asked that question, with the same description in
front and the same calibration as shipped. Groups: seed-0 coc-interweave programs of the given records whose
motions are decided by one yes/no helper alone (`if h(obj): ... pick_place` or `if not h(obj)`, or a comprehension
filter), scored per object against the task's expected places (an object that may end either way is not counted).
The shipped decisions are the records' own. Splits named after the file are left out: the study ran before the
shed split was merged, which is still unseen. Local model, ~15 min alone; output: docs/results/criterion_study.jsonl.

    .venv/bin/python scripts/criterion_study.py docs/results/bench_robot.json shed > docs/results/criterion_study.jsonl
"""
from __future__ import annotations

import ast
import builtins
import json
import sys
import time
from typing import Any

from coc_ros.bench.robot_tasks import load_tasks
from coc_ros.engine.lmulator import debiased
from coc_ros.engine.prompts import (DECISION_SHOTS, DECISION_SYSTEM, DESCRIBE_TOKENS, describe_messages,
                                    spoken)
from coc_ros.llm.factory import make_llm
from coc_ros.robot.api import RobotAPI
from coc_ros.sim.scene import load_scene

KNOWN = RobotAPI.functions | set(dir(builtins))  # names a program calls that are not semantic helpers
ASK = "Write the yes/no question this test asks about one object, X, in the instruction's words."
SYSTEM = ("You rewrite a test in a robot's program as the plain yes/no question it stands for, "
          "in the words of the person's instruction.")
SHOTS = [
    ("Anything the puppy could chew to bits, put it up on the high shelf.", "is_dangerous",
     "Could the puppy chew X to bits?"),
    ("Pack what I need for baking a cake into the basket.", "is_needed", "Is X needed for baking a cake?"),
    ("Everything except the glass things can go in the box.", "is_glass", "Is X made of glass?"),
]


def criterion_messages(instruction: str, helper: str) -> list[dict[str, str]]:
    def ask(text: str, name: str) -> str:
        return f"Instruction: {text}\nThe program asks {name}(obj) of each object it sees.\n{ASK}"
    messages = [{"role": "system", "content": SYSTEM}]
    for text, name, question in SHOTS:
        messages += [{"role": "user", "content": ask(text, name)}, {"role": "assistant", "content": question}]
    return messages + [{"role": "user", "content": ask(instruction, helper)}]


def single_filter(program: str) -> tuple[str, bool] | None:
    """The one undefined helper whose truth alone decides each object's motion, and whether it is negated."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    defined = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    defined |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}

    def moves(nodes: list[ast.AST]) -> bool:
        return any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "pick_place"
                   for b in nodes for n in ast.walk(b))

    def helper_of(test: ast.expr) -> tuple[str, bool] | None:
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        call = test.operand if negated else test
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id not in KNOWN | defined
                and len(call.args) == 1 and isinstance(call.args[0], ast.Name)):
            return call.func.id, negated
        return None

    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        tests = []
        if isinstance(node, ast.If) and moves(node.body) and not moves(node.orelse):
            tests = [node.test]
        elif isinstance(node, ast.comprehension) and moves([tree]):
            tests = list(node.ifs)
        found += [h for h in map(helper_of, tests) if h and h[0] not in {f[0] for f in found}]
    return found[0] if len(found) == 1 else None


def main(path: str, left_out: set[str]) -> None:
    llm = make_llm("local")
    tasks = {t.name: t for t in load_tasks("all")}
    facts: dict[tuple[str, tuple[str, ...]], str] = {}
    totals = {"shipped": [0, 0, 0], "criterion": [0, 0, 0]}
    for r in json.load(open(path))["results"]:
        if r["mode"] != "coc-interweave" or r["seed"] != 0 or not r["program"] or r["split"] in left_out:
            continue
        group = single_filter(r["program"])
        if group is None:
            continue
        helper, negated = group
        task = tasks[r["task"]]
        scene = load_scene(task.scene)
        objects = scene.object_names
        peers = tuple(objects)
        expected = task.expected(scene)
        need: dict[str, bool] = {}
        for o in objects:
            allowed = expected.get(o, {"table"})
            if "table" not in allowed:
                need[o] = not negated
            elif allowed == {"table"}:
                need[o] = negated
        started = time.time()
        recorded = {d["args"][0]: d for d in r.get("decisions") or []
                    if d.get("helper") == helper and d.get("args") and d["args"][0] in objects and not d.get("memo")}
        for o in objects:
            if (o, peers) not in facts:
                facts[(o, peers)] = recorded.get(o, {}).get("fact") or llm.complete(
                    describe_messages(o, objects), max_tokens=DESCRIBE_TOKENS).text.strip().splitlines()[0][:300]
        question = llm.complete(criterion_messages(task.instruction, helper), max_tokens=40).text.strip()
        question = question.splitlines()[0] if question else ""
        raw: dict[str, float] = {}
        for o in objects:
            messages: list[dict[str, str]] = [{"role": "system", "content": DECISION_SYSTEM}]
            for q, a in DECISION_SHOTS:
                messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            ask = question.replace("X", spoken(o)) if "X" in question else f"{question} ({spoken(o)})"
            messages.append({"role": "user", "content": f"{facts[(o, peers)]}\n{ask}"})
            scores = llm.score_options(messages, ["Yes", "No"])
            raw[o] = scores["Yes"] - scores["No"]
        decided = {"shipped": {o: recorded[o]["value"] == "True" for o in objects if o in recorded},
                   "criterion": {o: debiased(raw[o], list(raw.values())) > 0 for o in objects}}
        line: dict[str, Any] = {"task": r["task"], "split": r["split"], "helper": helper, "negated": negated,
                                "question": question, "success": r["success"]}
        counted = [o for o in need if o in decided["shipped"]]
        for name, decision in decided.items():
            right = sum(decision[o] == need[o] for o in counted)
            totals[name][0] += right
            totals[name][1] += len(counted)
            totals[name][2] += right == len(counted)
            line[name] = {"right": right, "of": len(counted)}
        line["criterion_logodds"] = {o: round(v, 2) for o, v in raw.items()}
        line["seconds"] = round(time.time() - started, 1)
        print(json.dumps(line), flush=True)
    print(json.dumps({"totals": {k: {"objects_right": v[0], "objects": v[1], "groups_all_right": v[2]}
                                 for k, v in totals.items()}}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], set(sys.argv[2].split(",")) if len(sys.argv) > 2 else set())
