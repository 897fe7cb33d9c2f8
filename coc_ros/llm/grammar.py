"""GBNF grammars that restrict a reply to names that exist (llama.cpp's grammar-constrained decoding).

Each alternative is the Python literal `repr(name)`, so the decoded text parses with ast.literal_eval back to the
exact name, whatever characters it holds (quotes, backslashes, non-ASCII).
"""
from __future__ import annotations


def gbnf_literal(text: str) -> str:
    """A GBNF string literal matching `text` exactly."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    escaped = escaped.replace("\t", "\\t")
    return f'"{escaped}"'


def choice_grammar(choices: list[str], *, many: bool = False) -> str:
    """`root` admits repr(c) for one choice c, or a Python list of such reprs when `many`."""
    unique = list(dict.fromkeys(c for c in choices if isinstance(c, str) and c))
    if not unique:
        raise ValueError("a choice grammar needs at least one non-empty name")
    item = " | ".join(gbnf_literal(repr(c)) for c in unique)
    if not many:
        return f"root ::= {item}\n"
    return f'root ::= "[" ( item ( ", " item )* )? "]"\nitem ::= {item}\n'
