"""Should an if/elif chain of helpers on one object be one multiple-choice question? (README, "Tried and dropped").

`if is_recyclable(x): ... elif is_compostable(x): ... else: ...` runs at most one branch, so the engine could ask
"Which of these fits x? A) recyclable B) compostable C) none of these" once and score the letters, instead of
asking independent yes/no questions in order. This measures both on the seen scenes' objects against their
scorer-only attributes. The instructions below are paraphrases written for the study, not benchmark items; the
vault split's scenes are not used.

Step 1 (`collect`, ~10 min alone on 2 cores with the local model): for each case, each object's description (as
the LMulator makes it), the letter log-probs of the lettered question (and of the content-free object 'object'),
and the yes/no log-odds of each helper. Step 2 (`analyze`, instant): accuracy of the shipped chain of calibrated
yes/no decisions (the first helper that says yes wins) and of the lettered question raw, centred per letter over
the scene's objects, minus the content-free scores, and minus half the scene mean. A choice is right when the
chosen helper's attribute is true for the object (or 'none of these' when no attribute is).

    .venv/bin/python scripts/chain_question_study.py collect runs/chain_question_study.json
    .venv/bin/python scripts/chain_question_study.py analyze docs/results/chain_question_study.json
"""
from __future__ import annotations

import json
import string
import sys
from pathlib import Path

NONE_OF_THESE = "none of these"
CASES = [
    ("sort", "Sort the waste: recyclables in the recycling bin, compostables in the compost bin, the rest in the "
             "trash.", ["recyclable", "compostable"]),
    ("recycle", "Sort the rubbish: recyclables, compostables and hazardous things into their bins.",
     ["recyclable", "compostable", "hazardous"]),
    ("recycle", "Glass goes in one bin, metal in another, plastic in a third.", ["glass", "metal", "plastic"]),
    ("lunch", "Meat on the plate, dairy in the fridge tray, fruit in the bowl.", ["meat", "dairy", "fruit"]),
    ("kitchen", "Vegetables in the pot, fruit in the bowl.", ["vegetable", "fruit"]),
    ("camping", "Food in the bear canister, flammable things in the crate.", ["food", "flammable"]),
    ("desk", "Writing tools in one tray, electronics in another.", ["writing_tool", "electronic"]),
    ("bathroom", "Medicine up high, toys in the basket, sharp things in the box.", ["medicine", "toy", "sharp"]),
    ("garage", "Tools in the toolbox, protective gear in the crate.", ["tool", "protective_gear"]),
    ("playroom", "Books on the shelf, toys in the chest.", ["book", "toy"]),
    ("bakery", "Nutty things on the staff tray, things that need the fridge in the display.",
     ["contains_nuts", "needs_fridge"]),
]


def lettered(question: str, obj: str, labels: list[str], fact: str) -> tuple[list[dict[str, str]], list[str]]:
    """The lettered question that was tried: instruction, the object's description, options A), B), ..."""
    from coc_ros.engine.prompts import CHOICE_SYSTEM, spoken

    letters = list(string.ascii_uppercase[:len(labels)])
    listed = "\n".join(f"{letter}) {label}" for letter, label in zip(letters, labels))
    content = (f"Instruction: {question}\n" + (f"{fact}\n" if fact else "")
               + f"Which of these fits {spoken(obj)} best?\n{listed}\nReply with the letter only.")
    return [{"role": "system", "content": CHOICE_SYSTEM}, {"role": "user", "content": content}], letters


def collect(out: Path) -> None:
    import yaml

    from coc_ros.engine.prompts import DESCRIBE_TOKENS, describe_messages, yes_no_messages
    from coc_ros.llm.factory import make_llm

    llm = make_llm("local")
    facts: dict[str, str] = {}
    cases = []
    for scene, instruction, attrs in CASES:
        data = yaml.safe_load(Path(f"config/scenes/{scene}.yaml").read_text())
        labels = [a.replace("_", " ") for a in attrs] + [NONE_OF_THESE]
        rows = {}
        for obj in data["objects"] + [{"name": "object", "attributes": {}}]:
            name = obj["name"]
            if name != "object" and name not in facts:
                text = llm.complete(describe_messages(name), max_tokens=DESCRIBE_TOKENS).text.strip()
                facts[name] = text.splitlines()[0].strip()[:300] if text else ""
            messages, letters = lettered(instruction, name, labels, facts.get(name, ""))
            scores = llm.score_options(messages, letters)
            yes_no = {}
            for attr in attrs:
                yn = llm.score_options(yes_no_messages(instruction, "is_" + attr, [name], facts.get(name, "")),
                                       ["Yes", "No"])
                yes_no[attr] = yn["Yes"] - yn["No"]
            rows[name] = {"scores": [scores[letter] for letter in letters], "yes_no": yes_no,
                          "truth": [a for a in attrs if obj["attributes"].get(a) in (True, "maybe")]}
        cases.append({"scene": scene, "attrs": attrs, "rows": rows})
        print(scene, attrs, flush=True)
        out.write_text(json.dumps(cases, indent=1))


def analyze(path: Path) -> dict[str, tuple[int, int]]:
    from coc_ros.engine.lmulator import debiased

    cases = json.loads(path.read_text())
    results: dict[str, list[int]] = {}

    def score(method: str, case: dict, obj: str, chosen: int) -> None:
        attrs, truth = case["attrs"], case["rows"][obj]["truth"]
        right = (chosen == len(attrs) and not truth) or (chosen < len(attrs) and attrs[chosen] in truth)
        results.setdefault(method, [0, 0])
        results[method][0] += int(right)
        results[method][1] += 1

    for case in cases:
        rows, attrs = case["rows"], case["attrs"]
        objects = [o for o in rows if o != "object"]
        n = len(attrs) + 1
        means = [sum(rows[o]["scores"][i] for o in objects) / len(objects) for i in range(n)]
        free = rows["object"]["scores"]
        for obj in objects:
            chosen = len(attrs)
            for i, attr in enumerate(attrs):
                if debiased(rows[obj]["yes_no"][attr], [rows[p]["yes_no"][attr] for p in objects]) > 0:
                    chosen = i
                    break
            score("shipped: calibrated yes/no in chain order", case, obj, chosen)
            s = rows[obj]["scores"]
            for method, adjusted in (("lettered, raw", s),
                                     ("lettered, centred per letter", [s[i] - means[i] for i in range(n)]),
                                     ("lettered, minus content-free", [s[i] - free[i] for i in range(n)]),
                                     ("lettered, minus half the mean", [s[i] - means[i] / 2 for i in range(n)])):
                score(method, case, obj, max(range(n), key=lambda i: adjusted[i]))
    for method, (right, total) in results.items():
        print(f"| {method} | {right}/{total} = {100 * right / total:.1f} % |")
    return {m: (r, t) for m, (r, t) in results.items()}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("collect", "analyze"):
        raise SystemExit(__doc__)
    (collect if sys.argv[1] == "collect" else analyze)(Path(sys.argv[2]))
