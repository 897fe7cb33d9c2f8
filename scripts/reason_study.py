"""Would a short reason before the Yes/No make the 1.5B model's yes/no decisions better? (docs/rounds.md,
seventeenth session: it did not, so it was not built into the LMulator.)

For each question of the decision tuning set (coc_ros/bench/data/decision_tuning.yaml: objects in no benchmark
scene), `collect` records three Yes-vs-No log-odds: the bare question, the question after the model's description
of the object (the two prompts the LMulator averages), and the question answered after a reason the model writes
first (its reply prefilled with "<Object> is", up to 36 tokens, then "Answer:" scored " Yes" vs " No"). The output
is resumable. `analyze` decides every complete group as shipped (`debiased`) and prints each way's accuracy.

    .venv/bin/python scripts/reason_study.py collect docs/results/reason_probe.json
    .venv/bin/python scripts/reason_study.py analyze docs/results/reason_probe.json
"""
from __future__ import annotations

import collections
import json
import sys
import time
from pathlib import Path

REASON_SYSTEM = ("You answer questions about everyday objects and situations with common sense. "
                 "Give one short sentence of reasoning, then answer Yes or No.")


def collect(out: Path) -> None:
    from coc_ros.bench.decisions import load_tuning_set
    from coc_ros.engine.prompts import DESCRIBE_TOKENS, describe_messages, helper_question, spoken, yes_no_messages
    from coc_ros.llm.local import LocalLLM

    llm = LocalLLM()
    done = json.loads(out.read_text()) if out.exists() else {}

    def logodds(messages: list[dict[str, str]]) -> float:
        scores = llm.score_options(messages, ["Yes", "No"])
        return scores["Yes"] - scores["No"]

    def reasoned(messages: list[dict[str, str]], prefill: str) -> tuple[str, float]:
        """The model's reason after a prefilled start, then the log-odds of ' Yes' vs ' No' after 'Answer:'. Uses
        the local backend's context directly: a prefilled reply is no part of the LLMClient interface."""
        with llm._lock:
            ctx = llm._slot(messages)
            prompt = llm._prompt_text(ctx, messages)
            out_ = ctx.create_completion(prompt=prompt + prefill, max_tokens=36, temperature=0.0, top_k=1,
                                         stop=["\n", "Yes", "No", "yes,", "no,"])
            reason = prefill + out_["choices"][0]["text"]
            tokens = ctx.tokenize((prompt + reason.rstrip() + "\nAnswer:").encode(), add_bos=False, special=True)
            logprobs = llm._eval_prompt(ctx, tokens)
            yes, no = (ctx.tokenize(t, add_bos=False, special=False)[0] for t in (b" Yes", b" No"))
            return reason, float(logprobs[yes] - logprobs[no])

    facts: dict[str, str] = {}
    started = time.time()
    for g, group in enumerate(load_tuning_set()):
        objects = list(group["objects"])
        for helper, truths in group["questions"].items():
            for obj, truth in zip(objects, truths):
                key = f"{g}|{helper}|{obj}"
                if key in done:
                    continue
                if obj not in facts:
                    text = llm.complete(describe_messages(obj, objects), max_tokens=DESCRIBE_TOKENS).text.strip()
                    facts[obj] = text.splitlines()[0].strip()[:300] if text else ""
                ask = helper_question(helper, [obj])
                messages = [{"role": "system", "content": REASON_SYSTEM},
                            {"role": "user", "content": f"{facts[obj]}\n{ask}" if facts[obj] else ask}]
                reason, value = reasoned(messages, spoken(obj).capitalize() + " is")
                done[key] = {"g": g, "helper": helper, "obj": obj, "truth": truth,
                             "bare": logodds(yes_no_messages("", helper, [obj], "")),
                             "desc": logodds(yes_no_messages("", helper, [obj], facts[obj])),
                             "reasoned": value, "reason": reason}
                out.write_text(json.dumps(done))
        print(f"group {g}: {len(done)} questions, {time.time() - started:.0f} s", flush=True)


def analyze(path: Path) -> None:
    from coc_ros.bench.decisions import load_tuning_set
    from coc_ros.engine.lmulator import debiased

    groups: dict[tuple[int, str], list[dict]] = collections.defaultdict(list)
    for row in json.loads(path.read_text()).values():
        groups[(row["g"], row["helper"])].append(row)
    sizes = {g: len(group["objects"]) for g, group in enumerate(load_tuning_set())}
    complete = [rows for (g, _), rows in groups.items() if len(rows) == sizes[g]]  # a stopped collect leaves a part
    ways = {"bare": lambda r: r["bare"], "with description": lambda r: r["desc"],
            "mean of both (shipped)": lambda r: (r["bare"] + r["desc"]) / 2, "reasoned": lambda r: r["reasoned"],
            "mean of all three": lambda r: (r["bare"] + r["desc"] + r["reasoned"]) / 3}
    print(f"{sum(len(g) for g in complete)} questions in {len(complete)} complete (group, helper) sets")
    for name, value in ways.items():
        right = scored = all_right = 0
        for rows in complete:
            values = [value(r) for r in rows]
            hits = [(debiased(v, values) > 0) == r["truth"] for v, r in zip(values, rows) if r["truth"] is not None]
            right += sum(hits)
            scored += len(hits)
            all_right += all(hits)
        print(f"  {name:24} calibrated {right}/{scored} = {right / scored:.3f}   sets all right {all_right}")


if __name__ == "__main__":
    {"collect": collect, "analyze": analyze}[sys.argv[1]](Path(sys.argv[2]))
