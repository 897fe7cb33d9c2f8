"""What a program does with each undefined helper's value, read from its AST before it runs.

A small model answers best when asked the right kind of question: a helper whose value is used as a truth value is
a yes/no decision (decided from log-odds), one compared with string literals is a choice among those literals, one
passed to a robot skill must be a name that exists. The program itself says which, so nobody has to guess from the
helper's name alone (the name is only the last resort: `is_`/`has_`/`can_`... helpers are truth values).
"""
from __future__ import annotations

import ast
import re
from typing import Any

BOOL_NAME = re.compile(r"^(is|are|was|were|has|have|can|could|should|does|do|contains|needs|belongs)_")
# Robot skills whose arguments are names, and which argument is an object and which a place.
NAME_ARGUMENTS: dict[str, dict[int | str, str]] = {
    "pick_place": {0: "object", 1: "place", "obj": "object", "target": "place"},
}
# Only uses that pin the type down: len() or sorted() accept a str as well as a list, so they say nothing.
_STR_TYPE_CALLS = {"strptime", "fromisoformat"}
_NUMBER_CALLS = {"range", "round", "timedelta"}
_NUMBER_OPS = (ast.Sub, ast.Div, ast.FloorDiv, ast.Pow)
_RANK = {"free": 0, "bool": 1, "choice": 2, "names": 3, "name": 3}


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _str_constants(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


class _Analysis:
    def __init__(self, tree: ast.AST, dict_keys: dict[str, list[str]], list_items: dict[str, list[str]]):
        self.parents = _parents(tree)
        self.dict_keys = dict_keys
        self.list_items = list_items  # variables bound to a literal list/tuple/set of strings
        self.facts: dict[str, dict[str, Any]] = {}

    def add(self, helper: str, decision: str, options: list[str] | None = None, role: str = "",
            expect: str = "") -> None:
        fact = self.facts.setdefault(helper, {"decision": "free", "options": [], "role": "", "expect": ""})
        if _RANK[decision] > _RANK[fact["decision"]]:
            fact["decision"] = decision
        if options:
            fact["options"] = list(dict.fromkeys(fact["options"] + options))
        if role and not fact["role"]:
            fact["role"] = role
        if expect and not fact["expect"]:
            fact["expect"] = expect

    def use_of(self, helper: str, node: ast.AST, loop_var_uses: dict[str, list[ast.Name]]) -> None:
        """Record how the value at `node` (a call of helper, or a name holding its value) is used."""
        parent = self.parents.get(id(node))
        if parent is None:
            return
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node:
            self.add(helper, "bool")
        elif isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
            self.add(helper, "bool")
        elif isinstance(parent, ast.comprehension) and node in parent.ifs:
            self.add(helper, "bool")
        elif isinstance(parent, ast.Compare):
            others = [parent.left, *parent.comparators]
            literals = [s for o in others if o is not node for s in _str_constants(o)]
            literals += [s for o in others if o is not node and isinstance(o, ast.Name)
                         for s in self.list_items.get(o.id, [])]
            bools = [o for o in others if isinstance(o, ast.Constant) and isinstance(o.value, bool)]
            numbers = [o for o in others if isinstance(o, ast.Constant) and type(o.value) in (int, float)]
            if literals:
                self.add(helper, "choice", literals, expect="str")
            elif bools:
                self.add(helper, "bool")
            elif numbers:
                self.add(helper, "free", expect="number")
        elif isinstance(parent, ast.Call):
            self._call_argument(helper, node, parent)
        elif isinstance(parent, ast.BinOp):
            other = parent.right if parent.left is node else parent.left
            if isinstance(other, ast.JoinedStr) or (isinstance(other, ast.Constant) and isinstance(other.value, str)):
                self.add(helper, "free", expect="str")
            elif isinstance(parent.op, _NUMBER_OPS) or (isinstance(other, ast.Constant)
                                                        and type(other.value) in (int, float)):
                self.add(helper, "free", expect="number")
        elif isinstance(parent, ast.Subscript) and parent.slice is node and isinstance(parent.value, ast.Name):
            keys = self.dict_keys.get(parent.value.id)
            if keys:
                self.add(helper, "choice", keys, expect="str")
        elif isinstance(parent, ast.For) and parent.iter is node:
            self.add(helper, "free", expect="list")
            if isinstance(parent.target, ast.Name):
                for use in loop_var_uses.get(parent.target.id, []):
                    role = self._robot_role(use)
                    if role:
                        self.add(helper, "names", role=role, expect="list")

    def _robot_role(self, node: ast.AST) -> str:
        parent = self.parents.get(id(node))
        if not (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name)):
            return ""
        roles = NAME_ARGUMENTS.get(parent.func.id)
        if not roles:
            return ""
        for i, arg in enumerate(parent.args):
            if arg is node:
                return roles.get(i, "")
        for kw in parent.keywords:
            if kw.value is node and kw.arg:
                return roles.get(kw.arg, "")
        return ""

    def _call_argument(self, helper: str, node: ast.AST, call: ast.Call) -> None:
        role = self._robot_role(node)
        if role:
            self.add(helper, "name", role=role, expect="str")
            return
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "index" and isinstance(func, ast.Attribute) and node in call.args:
            items = (_str_constants(func.value) if not isinstance(func.value, ast.Name)
                     else self.list_items.get(func.value.id, []))
            if items:  # options.index(helper(x)): the value must be one of the list's strings
                self.add(helper, "choice", items, expect="str")
                return
        if name in _STR_TYPE_CALLS:
            self.add(helper, "free", expect="str")
        elif name in _NUMBER_CALLS:
            self.add(helper, "free", expect="number")
        elif name in ("bool", "filter"):
            self.add(helper, "bool")


def analyse_usage(tree: ast.AST) -> dict[str, dict[str, Any]]:
    """helper name -> {"decision", "options", "role", "expect"} for each called function whose use says something
    (a helper missing here is a free-text value)."""
    dict_keys: dict[str, list[str]] = {}
    list_items: dict[str, list[str]] = {}
    holders: dict[str, set[str]] = {}  # variable -> helpers whose value it was assigned
    name_uses: dict[str, list[ast.Name]] = {}
    calls: list[ast.Call] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            calls.append(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            name_uses.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if isinstance(node.value, ast.Dict):
                dict_keys[target] = [s for k in node.value.keys if k is not None for s in _str_constants(k)]
            elif isinstance(node.value, (ast.List, ast.Tuple, ast.Set)) and node.value.elts and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts):
                list_items[target] = _str_constants(node.value)
            elif isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
                holders.setdefault(target, set()).add(node.value.func.id)
    analysis = _Analysis(tree, dict_keys, list_items)
    for call in calls:
        helper = call.func.id
        analysis.use_of(helper, call, name_uses)
    for variable, helpers in holders.items():
        for use in name_uses.get(variable, []):
            for helper in helpers:
                analysis.use_of(helper, use, name_uses)
    for call in calls:
        helper = call.func.id
        fact = analysis.facts.get(helper)
        if (fact is None or fact["decision"] == "free") and BOOL_NAME.match(helper) and not (fact or {}).get("expect"):
            analysis.add(helper, "bool")
    return analysis.facts
