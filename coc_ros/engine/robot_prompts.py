"""What the program writer is told about the scene in front of the robot.

Kept apart from `prompts.py` on purpose: the reasoning benchmark keys its stored results by a hash of the general
prompt text, and robot-only wording must be able to change without invalidating hours of BBH results.
"""
from __future__ import annotations

import re


def with_seen(question: str, seen: str) -> str:
    """The instruction plus what the camera sees, so the program writer uses names, colours and labels that exist
    (measured on the dev split without it: 'tomatoes', 'red', 'block' for the camera's 'cube', 'bin' for one of
    three bins)."""
    return f"{question}\nThe camera sees: {seen}" if seen else question


def describe_seen(objects: list[tuple[str, str, str]]) -> str:
    """(name, colour, label) triples as the prompt shows them: each name, with its colour and label where they add
    words ('tomato_1 (red tomato)', but 'red_cube'), then the labels and colours that get_shape and get_color
    return here, the only values worth comparing them with."""
    if not objects:
        return ""
    shown = []
    for name, color, label in objects:
        extra = " ".join(w for w in (color, label.replace("_", " ")) if w)
        adds = set(extra.split()) - set(name.lower().split("_"))
        shown.append(f"{name} ({extra})" if adds else name)
    labels = ", ".join(repr(x) for x in dict.fromkeys(label for _, _, label in objects if label))
    colors = ", ".join(repr(x) for x in dict.fromkeys(color for _, color, _ in objects if color))
    return (", ".join(shown) + "." + (f" get_shape returns one of {labels}." if labels else "")
            + (f" get_color returns one of {colors}." if colors else ""))


def describe_place_colors(colours: dict[str, str], places: list[str]) -> str:
    """' The places' colours: tool_bucket is yellow, ...' for the places whose colour adds to their name (green_bin
    is not listed as green: repeated, it only lengthens the question); '' if none."""
    known = [f"{p} is {colours[p]}" for p in places
             if colours.get(p) and set(colours[p].lower().split()) - set(p.lower().split("_"))]
    return f" The places' colours: {', '.join(known)}." if known else ""


def with_notes(request: str, notes: list[str]) -> str:
    """A re-prompt plus what the engine found wrong in the program, one 'Note:' line each."""
    return request + "".join(f"\nNote: {note}." for note in notes)


# Words nearly every English sentence has, and the most common ones of other languages written in the Latin script
# (Dutch, German, French, Spanish, Italian, Portuguese, the Scandinavian languages, Polish, Turkish, Indonesian),
# so an instruction counts as another language only on evidence: another script, more of those languages' words than
# English ones ("Wil je alles wat met de hand gewassen moet worden in de wasbak leggen?": je, wat, met, de, de
# against in), or letters English does not use with few English words. On the 203 benchmark instructions this
# separates all 31 in other languages (or mixed, "Prepare 西红柿炒蛋 in the pot.") from the English ones, and a
# goal like "warmup 0" stays English.
_ENGLISH_WORDS = frozenset("""a an the and or but if so not no nor of to in on into onto at by for from with
without about out up down off over under than then there here it its it's this that these those them they their he
she his her we our us you your i me my is are was were be been do does did don't can could will would should must
please all every everything each any anything some something other else what which who how many much where when why
let let's put take move leave keep go goes give tell get away back just only too also""".split())
_OTHER_WORDS = frozenset("""de het een en van op te je wat met niet maar ook als dat die deze zijn er naar wil
der das und ist nicht mit auf ein eine einen dem den zu bitte alle alles sie ich du
le la les et du des est pour avec une dans sur ce qui que pas tout tu vous il
el los las y por con para una del al lo es se su todo todos
il di che per non nel della nella sono tutto tutti questo quello
o os as da do em um uma com para não tudo você
och att det som är på för med inte du kan ett jag alla
og er til ikke på
w na z do nie się jest wszystko
ve bir bu ne için ile da
dan yang di ke ini itu""".split()) - _ENGLISH_WORDS
_NON_LATIN = re.compile(r"[^\x00-\u024f\u2000-\u206f\u20a0-\u20cf]")  # CJK, Cyrillic, Hangul, kana, ...
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def reads_as_english(text: str) -> bool:
    """Whether an instruction is English: only Latin script, no more common words of other languages than English
    ones, and, where it has letters English does not use (ä, ò, ı), at least a fifth of its words English function
    words. Names ('jalapeño', 'velocity_zero') alone never make an instruction foreign."""
    if _NON_LATIN.search(text):
        return False
    words = _WORD.findall(text.lower())
    english = sum(w in _ENGLISH_WORDS for w in words)
    if sum(w in _OTHER_WORDS for w in words) > english:
        return False
    return not (re.search(r"[^\x00-\x7f]", text) and english < 0.2 * len(words))


def with_translation(question: str, english: str) -> str:
    """An instruction in another language with the model's English translation after it, for the program writer.
    The original stays first: its names and quantities are the person's own, the translation only helps a small
    writer that reads English best."""
    english = " ".join(english.split())
    return f"{question}\n(In English: {english})" if english else question
