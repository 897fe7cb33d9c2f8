"""Prompt text for program generation, the LMulator, and the direct/CoT baselines.

Prompts are built so successive LMulator calls in one run share a long unchanged prefix (system text, few-shot
turns, question, program); only the last lines (current line, variables, call) differ. llama.cpp then reuses
its KV cache for the prefix, which matters on CPU where prompt processing dominates latency.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from coc_ros.llm.base import DESCRIBE_SYSTEM, Message
from coc_ros.core.program import without_comments

COC_SYSTEM = (
    "You answer questions by writing a Python program in the Chain of Code style.\n"
    "- Write real Python for everything that can be computed: arithmetic, counting, lists, sorting, strings, dates.\n"
    "- For a step that needs world knowledge, common sense or language understanding, call a helper function that "
    "you do NOT define, with a descriptive name and the concrete value as argument, e.g. is_fruit(item), "
    "get_color(obj), is_sarcastic(sentence). Its result will be predicted for you.\n"
    "- Do not use input(), files, the network or the current date; put the data from the question into variables.\n"
    "- Store the final result in a variable named `answer`.\n"
    "Reply with a single ```python code block and nothing else."
)

ROBOT_SYSTEM = (
    "\nYou also control a robot arm through these functions (they really move the robot):\n"
    "- detect_objects() -> list of str: the exact names of the objects on the table, e.g. ['red_cube', 'banana'].\n"
    "- pick_place(obj, target): pick the object named obj and put it in/on target (a place or an object name).\n"
    "- get_color(obj) -> str, get_shape(obj) -> str ('cube', 'cylinder', ...), get_size(obj) -> float (metres): "
    "what the camera sees; use these, never a helper, for colour, shape and size.\n"
    "- say(text): tell the user something.\n"
    "Use only names returned by detect_objects() or listed as places. Places: {places}.\n"
    "If the instruction describes a container instead of naming it, choose it with a helper, e.g. "
    "target = find_container('the grass-coloured container'); its value will be one of the places.\n"
    "Call semantic helpers you do NOT define (e.g. is_recyclable(obj)) to decide what to do with each object. "
    "An instruction to do something needs pick_place calls; a question needs only `answer`. "
    "Set `answer` to a short summary of what you did, or to the answer of the question."
)

LMULATOR_SYSTEM = (
    "You are an LMulator: you predict the value a Python expression would have when it calls a helper function "
    "that is not defined, or what a line of pseudo-code would set. Use common sense and world knowledge. "
    "Reply with ONLY a Python literal (number, string, bool, None, list, tuple or dict): no code, no explanation."
)
LINE_HINT = "This line is pseudo-code; reply with a dict of the variables it sets."
PROGRAM_HINT = ("Simulate this whole program; reply with a dict of the final values of its variables, which must "
                "include the key 'answer'.")

# Short REPL-style shots with balanced True/False, strings, numbers and a pseudo-code line. Measured with the
# 1.5B local model: showing the whole program in the prompt made it answer every call alike (all True or all
# False); the question as context plus the call itself gives the right answers.
LMULATOR_EXAMPLES: list[tuple[str, str]] = [
    ("Context: Which of these are vegetables?\n>>> is_vegetable('stone')", "False"),
    ("Context: What is the capital of the country where the Eiffel Tower stands?\n>>> get_capital('France')",
     "'Paris'"),
    ("Context: How many animals are there?\n>>> is_animal('dog')", "True"),
    ("Context: Is the following sentence plausible? Tom Brady threw a touchdown.\n"
     ">>> sport_of_athlete('Tom Brady')", "'American football'"),
    ("Context: Sort the objects by colour.\n>>> is_red('banana')", "False"),
    ("Context: What day was it a week before May 6, 1992?\n>>> parse_date('May 6, 1992')", "'05/06/1992'"),
    (f"Context: A spider and a dog are in a room. How many legs in total?\n{LINE_HINT}\n"
     ">>> total = legs of a spider plus legs of a dog", "{'total': 12}"),
]

DIRECT_SYSTEM = "Answer the question. End your reply with 'So the answer is <answer>.'"
COT_SYSTEM = ("Answer the question. Think step by step, then end your reply with 'So the answer is <answer>.'")


@dataclasses.dataclass
class FewShot:
    """Task-specific prompting material. Empty fields fall back to the general defaults."""

    coc_examples: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (question, program)
    direct_prompt: str = ""  # text few-shot for direct answering ("Q: ... A: ..."), question appended
    cot_prompt: str = ""  # text few-shot with reasoning chains


def coc_messages(question: str, examples: list[tuple[str, str]], places: list[str] | None) -> list[Message]:
    system = COC_SYSTEM
    if places is not None:
        system += ROBOT_SYSTEM.format(places=", ".join(places) if places else "(none)")
    messages: list[Message] = [{"role": "system", "content": system}]
    for q, program in examples:
        messages.append({"role": "user", "content": f"Question: {q}"})
        messages.append({"role": "assistant", "content": f"```python\n{program.strip()}\n```"})
    messages.append({"role": "user", "content": f"Question: {question}"})
    return messages


REVIEW_SYSTEM = "You read a robot's Python program and say what the person had asked the robot to do."


def review_messages(program: str) -> list[Message]:
    """The reviewer's prompt: a program (comments removed), asking which instruction it carries out. The
    log-probability of the real instruction as the reply says how well the program explains it (Coder-Reviewer
    reranking, Zhang et al. 2022); comments are removed so a program cannot score by copying the instruction."""
    return [{"role": "system", "content": REVIEW_SYSTEM},
            {"role": "user", "content": f"```python\n{without_comments(program).rstrip()}\n```\n"
                                        "What had the person asked the robot to do?"}]


def lmulator_messages(question: str, program: str, line: int, source: str, kind: str, expression: str,
                      state: dict[str, str], hint: str = "") -> list[Message]:
    """System + shots + question form the shared prefix; the variables and the call come last."""
    messages: list[Message] = [{"role": "system", "content": LMULATOR_SYSTEM}]
    for user, reply in LMULATOR_EXAMPLES:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": reply})
    head = f"Context: {question}\n"
    variables = ", ".join(f"{k} = {v}" for k, v in state.items())
    if kind == "call":
        tail = (f"Variables: {variables}\n" if variables else "") + (f"{hint}\n" if hint else "") + f">>> {expression}"
    elif kind == "line":
        tail = (f"Variables: {variables}\n" if variables else "") + f"{LINE_HINT}\n>>> {source}"
    else:
        tail = f"{PROGRAM_HINT}\n```python\n{program.rstrip()}\n```"
    messages.append({"role": "user", "content": head + tail})
    return messages


def text_messages(question: str, system: str, fewshot: str, cot: bool = False) -> list[Message]:
    """Direct/CoT prompt in BBH's layout: few-shot text, then 'Q: ... A:' (CoT adds BBH's step-by-step cue)."""
    cue = " Let's think step by step." if cot else ""
    content = f"{fewshot.strip()}\n\nQ: {question}\nA:{cue}" if fewshot else f"{question}{cue}"
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


# ---------------------------------------------------------------------------------------------- typed decisions
# Measured with the local 1.5B model on 24 object/attribute pairs (vegan, compostable, recyclable): a plain-language
# yes/no question, its Yes-vs-No log-odds centred over the scene's objects, was right 19/24; the code-call form
# (`>>> is_vegan('ham')` -> True/False) 16/24; "X or not X" 15/24. General shots, none about a benchmark scene.
DECISION_SYSTEM = ("You answer questions about everyday objects and situations with common sense. "
                   "Answer Yes or No.")
DECISION_SHOTS: list[tuple[str, str]] = [
    ("Is a rubber duck edible?", "No"),
    ("Is a carrot a vegetable?", "Yes"),
    ("Is a steel spoon made of wood?", "No"),
    ("Is a pencil made of wood?", "Yes"),
]
CHOICE_SYSTEM = ("You answer questions about everyday objects and situations with common sense. "
                 "Reply with exactly one of the options.")
_VERB_QUESTIONS = {"has": "Does {s} have {p}", "have": "Does {s} have {p}", "can": "Can {s} {p}",
                   "could": "Could {s} {p}", "should": "Should {s} {p}", "does": "Does {s} {p}",
                   "do": "Do {s} {p}", "contains": "Does {s} contain {p}", "needs": "Does {s} need {p}",
                   "belongs": "Does {s} belong {p}", "are": "Are {s} {p}", "was": "Was {s} {p}",
                   "were": "Were {s} {p}", "is": "Is {s} {p}"}


def spoken(value: Any) -> str:
    """An argument as a person would say it: object names lose their underscores and instance numbers."""
    if isinstance(value, str):
        text = re.sub(r"_\d+$", "", value) if re.fullmatch(r"[a-z0-9_]+", value) else value
        return text.replace("_", " ") if re.fullmatch(r"[a-z0-9_]+", value) else text
    if isinstance(value, (list, tuple)):
        return ", ".join(spoken(v) for v in value)
    return str(value)


def helper_question(helper: str, args: list[Any]) -> str:
    """`is_vegan('ham')` -> 'Is ham vegan?'; `is_heavier_than('a', 'b')` -> 'Is a heavier than b?'.
    A helper name that is no verb phrase becomes a question about the call itself."""
    words = helper.split("_")
    subject = spoken(args[0]) if args else "it"
    rest = " ".join(spoken(a) for a in args[1:])
    template = _VERB_QUESTIONS.get(words[0]) if len(words) > 1 else None
    if template is None:
        call = f"{helper}({', '.join(repr(a) for a in args)})"
        return f"Is this true: {call}?"
    phrase = " ".join(words[1:]) + (f" {rest}" if rest else "")
    return template.format(s=subject, p=phrase) + "?"


def yes_no_messages(question: str, helper: str, args: list[Any], fact: str = "") -> list[Message]:
    """A yes/no question whose Yes-vs-No log-odds decide a truth-valued helper, after what the model itself
    said the object is (`fact`, see describe_messages) when there is one."""
    messages: list[Message] = [{"role": "system", "content": DECISION_SYSTEM}]
    for q, a in DECISION_SHOTS:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    ask = helper_question(helper, args)
    messages.append({"role": "user", "content": f"{fact}\n{ask}" if fact else ask})
    return messages


def choice_messages(question: str, helper: str, args: list[Any], options: list[str],
                    many: bool = False, fact: str = "") -> list[Message]:
    """One question scored (or grammar-decoded) over all options, with the instruction as context."""
    call = f"{helper}({', '.join(repr(a) for a in args)})"
    ask = "Reply with a Python list of the options that apply." if many else "Reply with exactly one option."
    content = (f"Instruction: {question}\n" + (f"{fact}\n" if fact else "") + f"What should {call} return? Options: "
               f"{', '.join(repr(o) for o in options)}. {ask}")
    return [{"role": "system", "content": CHOICE_SYSTEM}, {"role": "user", "content": content}]


# Generated knowledge: the model first says in a few words what an object is and what it is made of, then answers
# the yes/no question with that sentence in front of it. Measured with the local 1.5B model by `coc-ros bench
# decisions` (48 everyday objects in 6 groups, none of them in a benchmark scene, 296 yes/no questions over 15
# attributes, calibrated): 237/296 right without the sentence, 260/296 with it. In the tuning experiments, adding a
# generated definition of the attribute as well made it worse, and so did a one-sentence description without
# "what it is made of"; so only the object is described, this way.
DESCRIBE_TOKENS = 28


def describe_messages(obj: str, peers: list[str] | None = None) -> list[Message]:
    """Ask the model what an object is (its own words become the fact in front of each decision about it), with
    the other things the robot sees in front of the question: a name means what it means among them ('cough
    mixture' beside antacid tablets and lancets is a medicine; asked alone, the 1.5B model called it "a mixture of
    air and mucus"). The list comes first and is the same for every object of a scene, so its KV cache is shared."""
    scene = f"On the table: {', '.join(spoken(p) for p in peers)}.\n" if peers and len(peers) > 1 else ""
    return [{"role": "system", "content": DESCRIBE_SYSTEM},
            {"role": "user", "content": f"{scene}What is {spoken(obj)}? Answer in at most 15 words: what it is and "
                                        "what it is made of."}]


def type_hint(hints: dict[str, Any]) -> str:
    """A line telling the free-text LMulator what type the program needs (a date parser must return a str)."""
    expect = hints.get("expect")
    if hints.get("decision") == "bool":
        return "The program uses this value as True or False."
    if expect == "str":
        return "The program uses this value as a string: reply with a Python str."
    if expect == "number":
        return "The program does arithmetic with this value: reply with a number."
    if expect == "list":
        return "The program iterates over this value: reply with a Python list."
    return ""


# ------------------------------------------------------------------------------------------ repair and intent
def motions_made(done: list[tuple[str, str]]) -> str:
    """The goal's motions as the calls that made them, for a re-prompt that must not repeat them."""
    return ", ".join(f"pick_place({o!r}, {t!r})" for o, t in done)


def repair_request(instruction: str, error: str, objects: list[str], places: list[str],
                   done: list[tuple[str, str]], failing_line: str = "") -> str:
    """Tell the program writer the task again, exactly what failed (and on which line), which names exist and
    what already happened (measured: without the task restated, the 1.5B model answered a repair request with a
    few-shot program)."""
    moved = motions_made(done) or "nothing yet"
    return (f"Question: {instruction}\n"
            f"Running your program for this question failed: {error}\n"
            + (f"The failing line: {failing_line}\n" if failing_line else "") +
            f"Valid object names: {', '.join(objects) or '(none detected)'}. Places: {', '.join(places) or '(none)'}.\n"
            f"Already done (these motions happened; do not repeat them): {moved}.\n"
            "Write the complete corrected program for the rest of the task, from the world as it is now. "
            "Use only the valid names.")


def intent_request(instruction: str) -> str:
    """The re-prompt for a program that made no motion although the instruction asks for one."""
    return (f"Question: {instruction}\nThis instruction asks the robot to do something, but your program made no "
            "robot motion. Write a program that performs it with pick_place calls on the detected objects.")


def count_request(instruction: str, done: list[tuple[str, str]]) -> str:
    """The re-prompt for a program whose answer holds no number although the instruction asks how many."""
    moved = motions_made(done) or "nothing"
    return (f"Question: {instruction}\nThis instruction asks how many, but your program's `answer` holds no number. "
            f"Already done (these motions happened; do not repeat them): {moved}.\n"
            "Write the complete program again so that `answer` is the number asked for.")


# "How many" in the languages the robot is spoken to in: a goal that asks it wants a number in the answer.
# Chinese 几个 after 这/那 is "these/those few" (把那几个留下 "leave those"), no question.
_COUNT_QUESTION = re.compile(r"how many|wie viele|combien|cu[aá]nt[oa]s|quant[ieoa]s?\b|hoeveel|hur många|"
                             r"多少|(?<![这那這])[几幾][个個]|いくつ|何個|몇", re.IGNORECASE)


def asks_for_count(instruction: str) -> bool:
    return bool(_COUNT_QUESTION.search(instruction))


INTENT_SYSTEM = ("You read instructions given to a robot arm. Answer Yes if the instruction asks the robot to move, "
                 "put, place, sort, prepare or arrange objects; answer No if it only asks a question or for "
                 "information.")
INTENT_SHOTS: list[tuple[str, str]] = [
    ("Stack the plates on the tray.", "Yes"),
    ("How many apples do you see?", "No"),
    ("把杯子放到桌子上。", "Yes"),
    ("Tell me which of these items are heavy.", "No"),
]
_QUESTION_START = re.compile(r"^\s*(how|what|which|who|whom|whose|why|when|where|is|are|does|do|did|can|could|"
                             r"tell me|count|list|name)\b", re.IGNORECASE)


def intent_messages(instruction: str) -> list[Message]:
    messages: list[Message] = [{"role": "system", "content": INTENT_SYSTEM}]
    for q, a in INTENT_SHOTS:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    messages.append({"role": "user", "content": instruction[:2000]})
    return messages


TRANSLATE_SYSTEM = "Translate the instruction into English. Reply with the English translation only."
TRANSLATE_TOKENS = 120  # the longest benchmark instruction, in English, is about 70 tokens


def translate_messages(instruction: str) -> list[Message]:
    """An instruction in English, for checks that read English words. Measured on 16 instructions written for the
    probe (12 languages, none from the benchmark): whether the translation names a colour was right for 15, where
    asking the model Yes/No whether the instruction names one was right for 8 (it leans to Yes)."""
    return [{"role": "system", "content": TRANSLATE_SYSTEM}, {"role": "user", "content": instruction[:2000]}]


def looks_like_question(instruction: str) -> bool:
    """Without log-probs: an instruction that is phrased as a question asks for an answer, not for motion."""
    text = instruction.strip()
    return text.endswith(("?", "？")) or bool(_QUESTION_START.match(text))
