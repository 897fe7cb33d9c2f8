"""Few-shot programs in the paper's robot API style, for instructions given to the robot.

Each object is decided once (if/elif/else inside one loop): with separate filtered lists, one wrong LMulator
answer sends an object to two places, and the second pick fails because the object is already in a bin.
"""
from __future__ import annotations

ROBOT_EXAMPLES: list[tuple[str, str]] = [
    (
        "Put the fruits in the bowl.",
        "objects = detect_objects()\n"
        "moved = []\n"
        "for obj in objects:\n"
        "    if is_fruit(obj):\n"
        "        pick_place(obj, 'bowl')\n"
        "        moved.append(obj)\n"
        "say(f'I put {len(moved)} fruits in the bowl')\n"
        "answer = moved",
    ),
    (
        "Tidy up: fruit goes in the bowl, vegetables on the plate, everything else in the box.",
        "objects = detect_objects()\n"
        "for obj in objects:\n"
        "    if is_fruit(obj):\n"
        "        pick_place(obj, 'bowl')\n"
        "    elif is_vegetable(obj):\n"
        "        pick_place(obj, 'plate')\n"
        "    else:\n"
        "        pick_place(obj, 'box')\n"
        "answer = 'tidied'",
    ),
    (
        "Throw away the things that are broken or dirty.",
        "objects = detect_objects()\n"
        "thrown = []\n"
        "for obj in objects:\n"
        "    if is_broken(obj) or is_dirty(obj):\n"
        "        pick_place(obj, 'trash_bin')\n"
        "        thrown.append(obj)\n"
        "answer = thrown",
    ),
    (
        "How many blue things are there? Put them on the plate.",
        "objects = detect_objects()\n"
        "blue = [obj for obj in objects if get_color(obj) == 'blue']\n"
        "for obj in blue:\n"
        "    pick_place(obj, 'plate')\n"
        "answer = len(blue)",
    ),
]
