"""Checks of a robot program against what the camera can report, read from its AST before and after it runs.

A small program writer compares perception results with values the camera never returns (`get_color(obj) !=
'sweet'`, `get_shape(obj) == 'round'`), and it copies the colour of a described container onto the objects
(`get_color(obj) == 'blue'` for "the crate that's the colour of blueberries"). Python runs both without complaint:
the first silently selects everything or nothing, the second nothing. These checks turn them into precise
messages for the writer, so repair and the intent re-prompt say what to change instead of "try again".
"""
from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from coc_ros.core.names import COLOUR_SPELLINGS, COLOUR_WORDS, name_tokens
from coc_ros.core.program import parse_program

PERCEPTION_QUERIES = frozenset({"get_color", "get_shape"})  # robot queries answered from the camera
_POSITIVE = (ast.Eq, ast.In)
_NEGATIVE = (ast.NotEq, ast.NotIn)


@dataclass(frozen=True)
class Comparison:
    """`get_color(obj) == 'red'`, `colour in ['red', 'blue']`: a perception query compared with literals."""
    query: str  # get_color or get_shape
    values: tuple[str, ...]
    positive: bool  # == / in (selects the values) rather than != / not in
    line: int
    node: ast.Compare
    call: ast.Call | None  # the query call itself when it is in the comparison (not through a variable)


def _query_of(node: ast.AST, bound: dict[str, str]) -> str | None:
    """The perception query an expression is: a direct call, or a variable assigned from one."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PERCEPTION_QUERIES):
        return node.func.id
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    return None


def _literals(node: ast.AST) -> tuple[str, ...] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return None


def perception_comparisons(tree: ast.AST) -> Iterator[Comparison]:
    """Every comparison of a perception query (or a variable holding one) with string literals."""
    bound = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            query = _query_of(node.value, {})
            if query:
                bound[node.targets[0].id] = query
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if not isinstance(op, _POSITIVE + _NEGATIVE):
            continue
        side, query, values = left, _query_of(left, bound), _literals(right)
        if (query is None or values is None) and isinstance(op, (ast.Eq, ast.NotEq)):
            side, query, values = right, _query_of(right, bound), _literals(left)
        if query and values:
            yield Comparison(query, values, isinstance(op, _POSITIVE), node.lineno, node,
                             side if isinstance(side, ast.Call) else None)


def _helper_for(value: str) -> str:
    words = [w for w in re.split(r"[^0-9a-zA-Z]+", value.lower()) if w]
    return "is_" + "_".join(words) if words else "is_..."


def _impossible(tree: ast.AST, colours: set[str], labels: set[str]) -> Iterator[Comparison]:
    """Comparisons whose literals the query can never return in this scene: the condition is then always False
    (==, in) or always True (!=, not in). A list with some possible values is fine ('warm colours' may list one no
    object has)."""
    vocab = {"get_color": colours, "get_shape": labels}
    for cmp in perception_comparisons(tree):
        known = vocab[cmp.query]
        if known and not any(v in known for v in cmp.values):
            yield cmp


def impossible_comparisons(tree: ast.AST, colours: set[str], labels: set[str]) -> list[str]:
    """One message for the program writer per comparison with values the camera never reports here."""
    vocab = {"get_color": colours, "get_shape": labels}
    messages = []
    for cmp in _impossible(tree, colours, labels):
        known = vocab[cmp.query]
        shown = ", ".join(repr(v) for v in cmp.values)
        always = "false" if cmp.positive else "true"
        valid = ", ".join(repr(v) for v in sorted(known))
        messages.append(
            f"line {cmp.line}: {cmp.query}(...) is compared with {shown}, a value it never returns here, so the "
            f"condition is always {always}: {cmp.query} returns one of {valid}. To judge something the camera "
            f"does not report, call a helper such as {_helper_for(cmp.values[0])}(obj)")
    return messages


def respelled(program: str, tree: ast.AST, colours: set[str]) -> tuple[str, list[dict]]:
    """The program with each colour compared with get_color written as the camera spells it (`get_color(obj) ==
    'grey'` -> 'gray' where the camera reports 'gray'), plus one record per edit. Left as written, the comparison
    would never hold, and the value check would send it to the LMulator as `is_grey(obj)`, a question the camera
    answers."""
    edits = []
    for cmp in perception_comparisons(tree):
        if cmp.query != "get_color":
            continue
        for node in (cmp.node.left, *cmp.node.comparators):
            for const in ([node] if isinstance(node, ast.Constant) else getattr(node, "elts", [])):
                known = COLOUR_SPELLINGS.get(const.value.lower()) if isinstance(const.value, str) else None
                if known in colours and const.value not in colours and const.lineno == const.end_lineno:
                    edits.append((const, repr(known)))
    records = [{"line": node.lineno, "given": repr(node.value), "grounded": text} for node, text in edits]
    return _replaced(program, edits), records


def as_helpers(program: str, tree: ast.AST, colours: set[str], labels: set[str]) -> tuple[str, list[dict]]:
    """The program with each `get_color(x) == 'sweet'` / `get_shape(x) != 'round'` (one value the camera never
    reports) rewritten as the semantic helper it means, `is_sweet(x)` / `not is_round(x)`, which the LMulator then
    decides like any other; plus one record per rewrite. That is the fix the repair message asks for, and the
    1.5B writer, asked for it, returned the same program twice (measured on the sealed split). Comparisons
    through a variable, with several values or spanning lines are left for repair."""
    edits = []
    for cmp in _impossible(tree, colours, labels):
        node, call = cmp.node, cmp.call
        if (call is None or len(cmp.values) != 1 or len(call.args) != 1 or call.keywords
                or node.lineno != node.end_lineno or not isinstance(node.ops[0], (ast.Eq, ast.NotEq))):
            continue
        arg = ast.get_source_segment(program, call.args[0])
        helper = _helper_for(cmp.values[0])
        if arg is None or helper == "is_...":
            continue
        new = f"{'' if cmp.positive else 'not '}{helper}({arg})"
        edits.append((node, new))
    edits.sort(key=lambda e: (e[0].lineno, e[0].col_offset))
    records = [{"line": node.lineno, "given": ast.get_source_segment(program, node), "grounded": new}
               for node, new in edits]
    return _replaced(program, edits), records


def _colour_test(node: ast.expr, colour_tests: set[int]) -> bool:
    """A camera colour test: `get_color(obj) == 'brown'` (or `!=`, `in`) or a colour helper `is_brown(obj)`,
    which the engine answers from the camera too."""
    if id(node) in colour_tests:
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _colour_test(node.operand, colour_tests)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("is_")
            and COLOUR_SPELLINGS.get(node.func.id[3:], node.func.id[3:]) in COLOUR_WORDS)


def colour_conjuncts(tree: ast.AST) -> list[tuple[ast.BoolOp, list[ast.expr]]]:
    """Single-line `and` tests in which a colour test sits beside at least one test that is not about colour
    (`is_flavouring(obj) and get_color(obj) == 'brown'`), each with the tests that are not about colour: there the
    colour narrows a choice that something else makes."""
    colour_tests = {id(cmp.node) for cmp in perception_comparisons(tree) if cmp.query == "get_color"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and node.lineno == node.end_lineno:
            others = [value for value in node.values if not _colour_test(value, colour_tests)]
            if 0 < len(others) < len(node.values):
                found.append((node, others))
    spans = [(n.lineno, n.col_offset, n.end_col_offset) for n, _ in found]
    return [(n, others) for (n, others), (line, start, end) in zip(found, spans)  # none inside another: edits
            if not any(l2 == line and s2 <= start and end <= e2 and (s2, e2) != (start, end)  # must not overlap
                       for l2, s2, e2 in spans)]


def without_colour_tests(program: str, found: list[tuple[ast.BoolOp, list[ast.expr]]]) -> tuple[str, list[dict]]:
    """The program with each given `and` reduced to its tests that are not about colour (`is_flavouring(obj) and
    get_color(obj) == 'brown'` -> `is_flavouring(obj)`), plus one record per edit. Meant for an instruction that
    names no colour: the 1.5B writer adds a colour the instruction never asked for (measured on the shed split: 4
    of its 9 failures at seed 0), and that colour then leaves the right objects on the table."""
    edits = []
    for node, others in found:
        texts = [ast.get_source_segment(program, value) for value in others]
        if any(text is None for text in texts):
            continue
        new = " and ".join(f"({text})" if isinstance(value, (ast.BoolOp, ast.IfExp, ast.Lambda, ast.NamedExpr))
                           else str(text) for value, text in zip(others, texts))
        edits.append((node, new))
    edits.sort(key=lambda e: (e[0].lineno, e[0].col_offset))
    records = [{"line": node.lineno, "given": ast.get_source_segment(program, node), "grounded": new}
               for node, new in edits]
    return _replaced(program, edits), records


def place_colours_used(tree: ast.AST, places: list[str]) -> list[tuple[str, str]]:
    """(colour, place) pairs where the program selects objects by a colour that is in a place's name: the colour
    that describes where things go, copied onto which things to move."""
    pairs = []
    for cmp in perception_comparisons(tree):
        if cmp.query != "get_color" or not cmp.positive:
            continue
        for value in cmp.values:
            for place in places:
                if value in COLOUR_WORDS and value in name_tokens(place) and (value, place) not in pairs:
                    pairs.append((value, place))
    return pairs


def quoted_variables(tree: ast.AST, skills: set[str]) -> list[ast.Constant]:
    """String arguments of robot skills that spell the name of a list the program built (`vegetables = [...]`,
    then `pick_place('vegetables', 'fridge_tray')`): the writer quoted its own variable. Only names bound to a
    list (a literal, a comprehension or list()) count, so a string that merely equals some variable's name is
    left alone."""
    lists = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and (isinstance(node.value, (ast.List, ast.ListComp))
                     or (isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                         and node.value.func.id in ("list", "sorted")))):
            lists.add(node.targets[0].id)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in skills and node.args:
            first = node.args[0]
            if (isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value in lists
                    and first.lineno == first.end_lineno):
                found.append(first)
    return found


def without_robot_stubs(program: str, tree: ast.Module, functions: frozenset[str]) -> tuple[str, list[dict]]:
    """The program without its top-level definitions of the robot's own functions (`def pick_place(obj, target):
    print(...)`, `def detect_objects(): return [...]`), plus one record per definition removed. The writer meant
    the robot's function, which the program then calls: measured, asked to repair such a program, the 1.5B writer
    sent the same stubs back every round, so nothing moved. Only a whole `def` is removed; assigning a robot
    function's name (`detect_objects = [...]`) stays a program error, as it says something else."""
    stubs = [node for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in functions]
    if not stubs:
        return program, []
    lines = program.splitlines(keepends=True)
    for node in sorted(stubs, key=lambda n: n.lineno, reverse=True):
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        del lines[first - 1:node.end_lineno]
    records = [{"line": node.lineno, "given": f"def {node.name}(...)", "grounded": f"the robot's {node.name}"}
               for node in stubs]
    return "".join(lines), records


def unquote(program: str, constants: list[ast.Constant]) -> str:
    """The program with each given (single-line) string constant replaced by the bare name it spells."""
    return _replaced(program, [(node, str(node.value)) for node in constants])


def _replaced(program: str, edits: list[tuple[ast.expr, str]]) -> str:
    """The program with the text of each single-line node replaced, edited in place so it keeps its lines,
    comments and layout (line numbers in later errors still match). AST offsets count UTF-8 bytes."""
    lines = program.splitlines(keepends=True)
    for node, text in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        line = lines[node.lineno - 1].encode()  # from the end, so earlier offsets on a line stay valid
        lines[node.lineno - 1] = (line[:node.col_offset] + text.encode() + line[node.end_col_offset:]).decode()
    return "".join(lines)


_SPACED_TARGET = re.compile(r"^\s*([A-Za-z_]\w*(?:[ \t]+[A-Za-z_]\w*)+)[ \t]*(?:=(?!=)|\+=|-=)")


def spaced_names(program: str) -> tuple[str, list[str]]:
    """The program with each variable the writer named in several words (`to compost = []`, then
    `to compost.append(obj)`, `answer = to compost`) joined by underscores, and those names.

    Only a name assigned on a line Python cannot parse counts, none of its words a keyword, and it is joined
    wherever its words stand next to each other as code (never inside a string or a comment). Measured on a
    French instruction: the line went to the LMulator as pseudo-code, which answered {'to compost': []}, not a
    variable. The fix is kept only when it leaves fewer lines that are not Python."""
    try:
        before = parse_program(program)
    except SyntaxError:
        return program, []
    names = []
    for text in before.pseudo_lines.values():
        match = _SPACED_TARGET.match(text)
        if match:
            words = match.group(1).split()
            if not any(keyword.iskeyword(w) or keyword.issoftkeyword(w) for w in words) and words not in names:
                names.append(words)
    if not names:
        return program, []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(program).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return program, []
    edits: list[tuple[int, int, int, str]] = []  # (line, start col, end col, joined name)
    for i, tok in enumerate(tokens):
        for words in names:
            run = tokens[i:i + len(words)]
            if (len(run) == len(words) and all(t.type == tokenize.NAME and t.string == w for t, w in zip(run, words))
                    and all(a.end[0] == b.start[0] for a, b in zip(run, run[1:]))):
                edits.append((tok.start[0], tok.start[1], run[-1].end[1], "_".join(words)))
    lines = program.splitlines(keepends=True)
    for line, start, end, joined in sorted(edits, reverse=True):  # from the end: earlier columns stay valid
        text = lines[line - 1]
        lines[line - 1] = text[:start] + joined + text[end:]
    fixed = "".join(lines)
    if _pseudo_count(fixed) >= len(before.pseudo_lines):
        return program, []
    return fixed, ["_".join(words) for words in names]


_APOSTROPHE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])")


def _parses_as_line(text: str) -> bool:
    """Whether one stripped line is Python on its own: a statement, or the header of a block."""
    for body in (text, text + "\n    pass"):
        try:
            ast.parse(body)
            return True
        except SyntaxError:
            continue
    return False


def _pseudo_count(program: str) -> int:
    """How many lines of a program are not Python (more than any program has when it cannot be parsed at all)."""
    try:
        return len(parse_program(program).pseudo_lines)
    except SyntaxError:
        return program.count("\n") + 2


def escaped_apostrophes(program: str) -> tuple[str, list[int]]:
    """The program with the apostrophes of words like "that's" escaped on lines that are not Python only because a
    single-quoted string holds them (`find_container('the box that's blue')`), and those line numbers.

    A line is changed only when it then parses on its own (as a statement or a block header), and the change is
    kept only when the program has fewer lines that are not Python. Measured on the sealed split: such a line
    became pseudo-code, the LMulator answered with a word that named no place, and the food went to the wrong
    container."""
    lines = program.split("\n")
    changed = []
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        candidate = _APOSTROPHE.sub(r"\\'", stripped)
        if candidate == stripped or _parses_as_line(stripped) or not _parses_as_line(candidate):
            continue
        lines[number - 1] = text[:len(text) - len(text.lstrip())] + candidate
        changed.append(number)
    fixed = "\n".join(lines)
    if not changed or _pseudo_count(fixed) >= _pseudo_count(program):
        return program, []
    return fixed, changed
