"""Turning an LM completion into something the interpreter can walk: extraction and lenient parsing.

A CoC program may hold pseudo-code lines that are not Python. Rather than failing the whole program, each line
that breaks parsing is replaced by a marker statement (same indentation) and remembered, so the interpreter
can hand exactly that line to the LMulator when execution reaches it.
"""
from __future__ import annotations

import ast
import dataclasses
import io
import re
import tokenize

from coc_ros.core.types import ProgramError

FENCE_RE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
PSEUDO_MARKER = "__coc_pseudo__"
MAX_PSEUDO_LINES = 200  # lines that are not Python in one program; a real CoC program has a handful


def extract_program(completion: str) -> str:
    """The first ```python fenced block of a completion, or the whole completion when there is none."""
    match = FENCE_RE.search(completion)
    code = match.group(1) if match else completion
    return code.strip("\n").rstrip() + "\n" if code.strip() else ""


def without_comments(program: str) -> str:
    """The program with its comments and blank lines removed; a line Python cannot tokenize (pseudo-code) is kept
    as written. Used where a program is judged by what it does, not by what its comments say."""
    kept = [code.rstrip() for code in map(_code_part, program.splitlines()) if code.strip()]
    return "\n".join(kept) + "\n" if kept else ""


def _code_part(line: str) -> str:
    """The line up to its comment; the whole line when Python cannot tokenize it (pseudo-code, or a stray quote),
    because where its comment starts is then unsure."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return line
    if any(t.type == tokenize.ERRORTOKEN for t in tokens):
        return line
    comment = next((t for t in tokens if t.type == tokenize.COMMENT), None)
    return line[:comment.start[1]] if comment else line


@dataclasses.dataclass
class ParsedProgram:
    source: str
    tree: ast.Module
    pseudo_lines: dict[int, str]  # line number -> original text of lines that are not Python

    def is_marker(self, stmt: ast.stmt) -> int | None:
        """The line number a marker statement stands for, or None for a real statement."""
        node = stmt.test if isinstance(stmt, ast.If) and getattr(stmt, "_coc_header", False) else None
        if isinstance(stmt, ast.Expr):
            node = stmt.value
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == PSEUDO_MARKER
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in self.pseudo_lines
        ):
            return int(node.args[0].value)
        return None


def parse_program(source: str) -> ParsedProgram:
    """Parse a program, replacing each line that breaks Python's parser by a pseudo-code marker.

    Raises SyntaxError when the program cannot be made to parse this way (then the caller decides whether the
    LM simulates it as a whole).
    """
    lines = source.split("\n")
    pseudo: dict[int, str] = {}
    for _ in range(len(lines) + 1):
        if len(pseudo) > MAX_PSEUDO_LINES:
            # Each such line costs one more parse of the whole program, on the host before any deadline runs
            # (red-team: 1,500 lines of "a b" took 43 s against a 3 s limit).
            raise ProgramError(f"more than {MAX_PSEUDO_LINES} lines of the program are not Python")
        try:
            tree = ast.parse("\n".join(lines))
        except (RecursionError, MemoryError):
            raise ProgramError("the program is nested too deeply to parse") from None
        except SyntaxError as exc:
            lineno = exc.lineno
            if lineno is None or not 1 <= lineno <= len(lines) or lineno in pseudo:
                raise
            text = lines[lineno - 1]
            if not text.strip():
                raise
            indent = text[: len(text) - len(text.lstrip())]
            pseudo[lineno] = text.strip()
            if text.rstrip().endswith(":"):
                # A pseudo-code block header ("for each item in the basket:"): simulate it, then run its body once.
                lines[lineno - 1] = f"{indent}if {PSEUDO_MARKER}({lineno}):"
            else:
                lines[lineno - 1] = f"{indent}{PSEUDO_MARKER}({lineno})"
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.If)
                and isinstance(node.test, ast.Call)
                and isinstance(node.test.func, ast.Name)
                and node.test.func.id == PSEUDO_MARKER
            ):
                node._coc_header = True  # type: ignore[attr-defined]
        return ParsedProgram(source=source, tree=tree, pseudo_lines=pseudo)
    raise SyntaxError("program could not be parsed")
