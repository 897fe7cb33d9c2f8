"""Which scene attribute an LMulator helper is asking about: `is_vegan('ham')` -> the `vegan` attribute of `ham`.

One mapping serves two jobs: the oracle helpers that run reference programs (a helper answered from the scene's
scorer-only attributes) and the per-decision accuracy report (the LMulator's answer compared with that attribute).
Rule: lower-case the helper name; an exact attribute name wins (`contains_nuts`, `needs_fridge`); else strip one
prefix (is_a_, is_an_, is_, has_, can_be_, are_, contains_) and try the rest, then the alias table below (verb
forms and synonyms), then the rest without a plural 's'.
"""
from __future__ import annotations

from typing import Any

from coc_ros.sim.scene import Scene

PREFIXES = ("is_a_", "is_an_", "is_", "has_", "can_be_", "are_", "contains_")
ALIASES = {
    "recycled": "recyclable", "recycle": "recyclable",
    "composted": "compostable", "compost": "compostable", "biodegradable": "compostable",
    "food_waste": "food", "food_scrap": "food", "edible": "food",
    "nuts": "contains_nuts", "nut": "contains_nuts", "allergen": "contains_nuts",
    "kept_cold": "needs_fridge", "refrigerated": "needs_fridge", "perishable": "needs_fridge",
    "needs_refrigeration": "needs_fridge", "cold": "needs_fridge",
    "dangerous": "hazardous", "toxic": "hazardous",
    "ingredient_of": "stir_fry_ingredient", "ingredient": "stir_fry_ingredient", "in_dish": "stir_fry_ingredient",
    "veggie": "vegetable", "meat_product": "meat", "dairy_product": "dairy",
    "made_of_glass": "glass", "made_of_metal": "metal", "made_of_plastic": "plastic", "made_of_paper": "paper",
}
MAYBE = "maybe"  # an attribute value where common sense allows either answer


def scene_attributes(scene: Scene) -> set[str]:
    return {k for o in scene.objects for k in o.attributes}


def attribute_of(helper: str, attributes: set[str]) -> str | None:
    """The attribute a helper asks about, or None (see the module docstring for the rule)."""
    name = helper.lower()
    if name in attributes:
        return name
    rests = [name[len(p):] for p in PREFIXES if name.startswith(p)] or [name]
    for rest in rests:
        for cand in (rest, ALIASES.get(rest), rest[:-1] if rest.endswith("s") else None):
            if cand and cand in attributes:
                return cand
            if cand and ALIASES.get(cand) in attributes:
                return ALIASES[cand]
    return None


def truth(scene: Scene, obj: str, attribute: str) -> bool | None:
    """The scorer's truth for a yes/no question about an object: None when unknown or `maybe`."""
    if obj not in scene.object_names:
        return None
    value: Any = scene.object(obj).attributes.get(attribute)
    return value if isinstance(value, bool) else None
