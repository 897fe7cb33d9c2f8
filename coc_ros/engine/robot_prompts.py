"""What the program writer is told about the scene in front of the robot.

Kept apart from `prompts.py` on purpose: the reasoning benchmark keys its stored results by a hash of the general
prompt text, and robot-only wording must be able to change without invalidating hours of BBH results.
"""
from __future__ import annotations


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
