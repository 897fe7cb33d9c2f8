"""What generated code may use: builtins, modules, names and attributes. Checked statically and at run time.

Three layers, so that one mistake does not open the box: (1) a static AST check rejects dunder names and
private/introspection attributes before anything runs; (2) the namespace only holds allowlisted builtins and
a restricted `__import__` that hands out read-only proxies of allowlisted modules; (3) inside the worker an
audit hook (which cannot be removed) refuses file, process, network and native-code events.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import sys
import string as _string
import types
from typing import Any, Callable

from coc_ros.core.program import PSEUDO_MARKER
from coc_ros.core.types import Abort, SandboxViolation

ALLOWED_MODULES: frozenset[str] = frozenset({
    "math", "cmath", "itertools", "functools", "operator", "re", "string", "datetime", "collections",
    "statistics", "random", "json", "fractions", "decimal", "heapq", "bisect", "copy", "enum", "typing",
    "calendar", "textwrap", "unicodedata",
})

SAFE_BUILTIN_NAMES: frozenset[str] = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict", "divmod",
    "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int", "isinstance", "issubclass",
    "iter", "len", "list", "map", "max", "min", "next", "oct", "ord", "pow", "range", "repr", "reversed",
    "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip", "classmethod", "staticmethod", "property",
    "Exception", "ArithmeticError", "AssertionError", "AttributeError", "IndexError", "KeyError",
    "LookupError", "NameError", "NotImplementedError", "RuntimeError", "StopIteration", "TypeError",
    "ValueError", "ZeroDivisionError", "OverflowError", "RecursionError",
    "True", "False", "None", "NotImplemented", "Ellipsis",
})

# Attributes that lead from ordinary objects to frames, code objects and globals (and from there anywhere).
FORBIDDEN_ATTRIBUTES: frozenset[str] = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "co_code",
    "func_globals", "mro", "format_map",
})
FORBIDDEN_NAMES: frozenset[str] = frozenset({
    "eval", "exec", "compile", "open", "input", "breakpoint", "globals", "locals", "vars", "dir", "getattr",
    "setattr", "delattr", "type", "object", "super", "memoryview", "help", "exit", "quit",
})


# Public attributes of allowlisted modules that reach arbitrary attributes by name at run time (so a dunder in a
# string gets past the static check) or evaluate strings as code. Keyed by the module's real __name__.
MODULE_ATTRIBUTE_DENYLIST: dict[str, frozenset[str]] = {
    "operator": frozenset({"attrgetter", "methodcaller"}),
    "string": frozenset({"Formatter"}),
    "typing": frozenset({"get_type_hints", "ForwardRef"}),
}


def check_program(tree: ast.AST) -> None:
    """Reject code that names dunders, private or introspection attributes, or forbidden builtins."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            _check_name(node.id, node)
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES:
                raise SandboxViolation(f"line {node.lineno}: access to attribute {node.attr!r} is not allowed")
            if node.attr == "format":
                _check_format(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _check_name(node.name, node)
        elif isinstance(node, ast.arg):
            _check_name(node.arg, node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if any(part.startswith("_") for part in module.split(".")):
                    raise SandboxViolation(f"line {node.lineno}: import of private module {module!r} is not allowed")
                if module.split(".")[0] not in ALLOWED_MODULES:
                    raise SandboxViolation(f"line {node.lineno}: {_not_allowed(module)}")
            for alias in node.names:
                if alias.name.startswith("_"):
                    raise SandboxViolation(f"line {node.lineno}: import of private name {alias.name!r} is not allowed")
                if alias.asname:
                    _check_name(alias.asname, node)
        elif isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)):
            raise SandboxViolation(f"line {node.lineno}: async code is not supported")


def _check_format(node: ast.Attribute) -> None:
    """`str.format` looks up attributes and items named in the format string at run time ('{0.__class__}'):
    allowed only on a literal format string whose fields use no private or introspection attributes."""
    line = getattr(node, "lineno", "?")
    if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
        raise SandboxViolation(f"line {line}: .format() is only allowed on a literal format string "
                               "(use an f-string instead)")
    try:
        fields = [f for _, f, spec, _ in _string.Formatter().parse(node.value.value) if f is not None]
        fields += [f for _, _, spec, _ in _string.Formatter().parse(node.value.value) if spec
                   for _, f, _, _ in _string.Formatter().parse(spec) if f is not None]
    except ValueError as exc:
        raise SandboxViolation(f"line {line}: malformed format string: {exc}") from None
    for field in fields:
        parts = field.replace("[", ".").replace("]", "").split(".")[1:]
        bad = [p for p in parts if p.startswith("_") or p in FORBIDDEN_ATTRIBUTES]
        if bad:
            raise SandboxViolation(f"line {line}: format field {field!r} accesses {bad[0]!r}, which is not allowed")


def _check_name(name: str, node: ast.AST) -> None:
    line = getattr(node, "lineno", "?")
    if name == PSEUDO_MARKER:  # stands for a pseudo-code line; the interpreter never executes it
        return
    if name.startswith("__") or name in FORBIDDEN_NAMES:
        raise SandboxViolation(f"line {line}: use of {name!r} is not allowed")


class ModuleProxy:
    """A read-only view of an allowlisted module: public, non-module attributes only."""

    __slots__ = ("_coc_module",)

    def __init__(self, module: types.ModuleType):
        object.__setattr__(self, "_coc_module", module)

    def __getattr__(self, name: str) -> Any:
        module = object.__getattribute__(self, "_coc_module")
        if name.startswith("_"):
            raise AttributeError(f"module attribute {name!r} is not allowed")
        if name in MODULE_ATTRIBUTE_DENYLIST.get(module.__name__, ()):
            raise Abort(SandboxViolation(f"{module.__name__}.{name} is not allowed in the sandbox (it reaches "
                                         "attributes or code named by strings at run time)"))
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):
            if value.__name__ in ALLOWED_MODULES or value.__name__.split(".")[0] in ALLOWED_MODULES:
                return ModuleProxy(value)
            raise Abort(SandboxViolation(f"{module.__name__}.{name} is the module {value.__name__!r}, "
                                         "which is not allowed"))
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("modules are read-only in the sandbox")

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_coc_module').__name__!r}>"


def _not_allowed(name: str) -> str:
    return f"import of {name!r} is not allowed (allowed: {', '.join(sorted(ALLOWED_MODULES))})"


def restricted_import(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (), level: int = 0):
    """`__import__` for generated code: allowlisted top-level modules only, returned as proxies."""
    if level != 0:
        raise Abort(SandboxViolation("relative imports are not allowed"))
    top = name.split(".")[0]
    if top not in ALLOWED_MODULES:
        # Programs can only import allowlisted modules (check_program rejects the rest before anything runs), so
        # this is C code of an allowlisted module importing a helper through the program's builtins
        # (datetime.strftime -> time, datetime.strptime -> _strptime): hand out what is already loaded, load nothing.
        if name in sys.modules and not fromlist:
            return sys.modules[name]
        raise Abort(SandboxViolation(_not_allowed(name)))
    module = importlib.import_module(name)
    if fromlist:
        return ModuleProxy(module)
    return ModuleProxy(importlib.import_module(top))


# Private stdlib modules that allowlisted functions import lazily on first use (datetime.strptime -> _strptime).
LAZY_STDLIB_DEPENDENCIES: tuple[str, ...] = ("_strptime",)


def preload_allowed_modules() -> None:
    """Import every allowlisted module, and what they import lazily, before the audit hook is armed (imports
    later would need file access and are refused)."""
    for name in sorted(ALLOWED_MODULES) + list(LAZY_STDLIB_DEPENDENCIES):
        importlib.import_module(name)


def safe_builtins(print_fn: Callable[..., None]) -> dict[str, Any]:
    """The builtins dict generated code gets: the allowlist, a captured print and the restricted import."""
    table = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES if hasattr(builtins, name)}
    table["print"] = print_fn
    table["__import__"] = restricted_import
    table["__build_class__"] = builtins.__build_class__  # `class` statements; dunder access stays blocked
    return table


# Audit events refused inside the worker once the program starts. Prefix match on the event name.
BLOCKED_AUDIT_PREFIXES: tuple[str, ...] = (
    "open", "os.", "subprocess.", "socket.", "ctypes.", "shutil.", "pty.", "fcntl.", "mmap.",
    "sys._getframe", "sys.settrace", "sys.setprofile", "sys.addaudithook", "sys._current_frames",
    "sqlite3.", "urllib.", "http.", "ftplib.", "smtplib.", "telnetlib.", "webbrowser.", "winreg.",
    "marshal.", "pickle.", "code.__new__", "function.__new__", "object.__setattr__", "object.__delattr__",
    "cpython.run_", "gc.get_referrers", "gc.get_referents", "gc.get_objects", "resource.setrlimit",
    "signal.",
)


_OWN_COMPILES = (("<coc>",), ("<unknown>",))


def install_audit_hook(allowed_imports: frozenset[str]) -> None:
    """Arm an (irremovable) audit hook that refuses file, process, network and introspection events."""
    import sys

    armed_modules = set(sys.modules)

    def hook(event: str, args: tuple) -> None:
        if event == "compile" and args and isinstance(args[0], (str, bytes)) and args[1:2] not in _OWN_COMPILES:
            # The interpreter compiles AST nodes, symtables of checked statements ("<coc>") and literals
            # (ast.literal_eval: "<unknown>", parse only). Other text compiled at run time is code that never
            # passed the static check (typing's string annotations, functools.singledispatch, namedtuple, ...).
            raise Abort(SandboxViolation("blocked by the sandbox: compiling code from a string at run time"))
        if event == "exec" and args and getattr(args[0], "co_filename", "<coc>") != "<coc>":
            raise Abort(SandboxViolation("blocked by the sandbox: running code that was not checked (exec)"))
        if event == "import":
            name = args[0]
            if name not in armed_modules and name.split(".")[0] not in allowed_imports:
                raise Abort(SandboxViolation(f"import of {name!r} is not allowed"))
            return
        if event.startswith(BLOCKED_AUDIT_PREFIXES):
            if event == "open" and args and args[0] in (0, 1, 2):
                return
            raise Abort(SandboxViolation(f"blocked by the sandbox: {event}"))

    sys.addaudithook(hook)
