"""What generated code may use: builtins, modules, names and attributes. Checked statically and at run time.

This is layer 1 of the sandbox, in three parts so that one mistake does not open it: (1) a static AST check
that allows only known node types and rejects dunder names and private/introspection attributes before anything
runs; (2) the namespace only holds allowlisted builtins and a restricted `__import__` that hands out read-only
proxies of allowlisted modules; (3) inside the worker an audit hook (which cannot be removed, its settings frozen
in its closure) refuses file, process, network and native-code events. Layer 2 (isolation.py, the operating
system) holds even when all of this is bypassed.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import sys
import string as _string
import types
from typing import Any
from collections.abc import Callable

from coc_ros.core.program import PSEUDO_MARKER
from coc_ros.core.types import Abort, SandboxViolation

ALLOWED_MODULES: frozenset[str] = frozenset({
    "math", "cmath", "itertools", "functools", "operator", "re", "string", "datetime", "collections",
    "statistics", "random", "json", "fractions", "decimal", "heapq", "bisect", "copy", "typing",
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


# Public attributes of allowlisted modules that reach attributes by a string name at run time (so a dunder in a
# string gets past the static check), evaluate strings as code, write into a namespace by name, or hand out `type`.
# Any metaclass is refused where a module attribute is read (it builds classes with arbitrary dunder attributes from
# a dict), and `enum` is not allowlisted: its functional API (`Enum('E', {...})`) does the same from a names dict.
# Keyed by the module's real __name__.
MODULE_ATTRIBUTE_DENYLIST: dict[str, frozenset[str]] = {
    "operator": frozenset({"attrgetter", "methodcaller"}),
    "string": frozenset({"Formatter"}),
    "typing": frozenset({"get_type_hints", "ForwardRef", "get_origin", "Type"}),
    # cached_property stores into `instance.__dict__[self.attrname]`, and `attrname` is a public, writable
    # attribute: renamed to '__reduce_ex__' it planted a reducer that made copy.deepcopy() set any attribute by a
    # string name (red-team, seventeenth session: a `__subclasshook__` that handed out `type`).
    "functools": frozenset({"update_wrapper", "wraps", "singledispatch", "singledispatchmethod", "cached_property"}),
    "copy": frozenset({"dispatch_table"}),  # copyreg's table: a reducer there makes copy() set attributes by name
}

# The AST node types a program may contain. Anything else, including node types a later Python adds, is refused:
# the check is closed by construction instead of listing the bad forms.
ALLOWED_NODES: frozenset[type] = frozenset({
    ast.Module,
    # statements
    ast.FunctionDef, ast.ClassDef, ast.Return, ast.Delete, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For,
    ast.While, ast.If, ast.With, ast.Raise, ast.Try, ast.Assert, ast.Import, ast.ImportFrom, ast.Global,
    ast.Nonlocal, ast.Expr, ast.Pass, ast.Break, ast.Continue,
    # expressions
    ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp, ast.Dict, ast.Set, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Yield, ast.YieldFrom, ast.Compare, ast.Call,
    ast.FormattedValue, ast.JoinedStr, ast.Constant, ast.Attribute, ast.Subscript, ast.Starred, ast.Name, ast.List,
    ast.Tuple, ast.Slice,
    # contexts and operators
    ast.Load, ast.Store, ast.Del, ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod,
    ast.Pow, ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd, ast.FloorDiv, ast.Invert, ast.Not,
    ast.UAdd, ast.USub, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
    # parts of the above
    ast.comprehension, ast.ExceptHandler, ast.arguments, ast.arg, ast.keyword, ast.alias, ast.withitem,
})
_MATCH = ("pattern matching (match/case) is not allowed in the sandbox: class and mapping patterns read "
          "attributes and bind names at run time; use if/elif")
_ASYNC = "async code is not supported"
REFUSED_NODES: dict[type, str] = {
    ast.Match: _MATCH, ast.match_case: _MATCH, ast.MatchValue: _MATCH, ast.MatchSingleton: _MATCH,
    ast.MatchSequence: _MATCH, ast.MatchMapping: _MATCH, ast.MatchClass: _MATCH, ast.MatchStar: _MATCH,
    ast.MatchAs: _MATCH, ast.MatchOr: _MATCH,
    ast.AsyncFunctionDef: _ASYNC, ast.AsyncFor: _ASYNC, ast.AsyncWith: _ASYNC, ast.Await: _ASYNC,
    ast.TryStar: "except* (exception groups) is not supported in the sandbox; use except",
}


def check_program(tree: ast.AST) -> None:
    """Refuse any node type outside ALLOWED_NODES, and every identifier the program binds or reads (names,
    parameters, keywords, except/global targets) or attribute it accesses that is a dunder, private or
    introspection name, or a forbidden builtin."""
    for node in ast.walk(tree):
        kind = type(node)
        if kind not in ALLOWED_NODES:
            reason = REFUSED_NODES.get(kind, f"the syntax {kind.__name__!r} is not allowed in the sandbox")
            raise SandboxViolation(f"line {getattr(node, 'lineno', '?')}: {reason}")
        for name in _bound_or_read_names(node):
            _check_name(name, node)
        if isinstance(node, ast.keyword) and node.arg is not None and node.arg.startswith("__"):
            raise SandboxViolation(f"line {node.lineno}: keyword argument {node.arg!r} is not allowed")
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES:
                raise SandboxViolation(f"line {node.lineno}: access to attribute {node.attr!r} is not allowed")
            if node.attr == "format":
                _check_format(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            _check_import(node)


def _bound_or_read_names(node: ast.AST) -> list[str]:
    """Every identifier of a node that names a variable (not attributes, keywords or imported names)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.ExceptHandler):
        return [node.name] if node.name else []
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    if isinstance(node, ast.alias):
        return [node.asname] if node.asname else []
    return []


def _check_import(node: ast.Import | ast.ImportFrom) -> None:
    modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    for module in modules:
        if any(part.startswith("_") for part in module.split(".")):
            raise SandboxViolation(f"line {node.lineno}: import of private module {module!r} is not allowed")
        if module.split(".")[0] not in ALLOWED_MODULES:
            raise SandboxViolation(f"line {node.lineno}: {_not_allowed(module)}")
    for alias in node.names:
        if alias.name.startswith("_"):
            raise SandboxViolation(f"line {node.lineno}: import of private name {alias.name!r} is not allowed")


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


class Uncopyable:
    """Base of objects handed to generated code that hold references into the sandbox (a module, the interpreter):
    copying one gives the object itself, and the reduce protocol is refused, because its state would hand out
    those references (copy.copy/deepcopy with a memo keep the originals reachable)."""

    __slots__ = ()

    def __copy__(self) -> Uncopyable:
        return self

    def __deepcopy__(self, memo: Any) -> Uncopyable:
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"{type(self).__name__} objects cannot be copied or pickled in the sandbox")

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} objects cannot be copied or pickled in the sandbox")


class ModuleProxy(Uncopyable):
    """A read-only view of an allowlisted module. It holds no reference to the module, only a checking accessor
    (a closure), so neither its state nor an exception it raises can hand out the real module."""

    __slots__ = ("_coc_get", "_coc_name")

    def __init__(self, get: Callable[[str], Any], name: str):
        object.__setattr__(self, "_coc_get", get)
        object.__setattr__(self, "_coc_name", name)

    def __getattr__(self, name: str) -> Any:
        return object.__getattribute__(self, "_coc_get")(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("modules are read-only in the sandbox")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("modules are read-only in the sandbox")

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_coc_name')!r}>"


# The only modules allowlisted C code imports through the program's builtins while it runs (measured over every
# allowlisted module's common calls: datetime's strftime/timestamp/astimezone import `time`, strptime `_strptime`);
# handed out to that C code, never to the program.
C_HELPER_IMPORTS: frozenset[str] = frozenset({"time", "_strptime"})


def _not_allowed(name: str) -> str:
    return f"import of {name!r} is not allowed (allowed: {', '.join(sorted(ALLOWED_MODULES))})"


def _make_restricted_import(allowed: frozenset[str], denylist: dict[str, frozenset[str]],
                             helpers: frozenset[str]) -> Callable[..., Any]:
    """`__import__` for generated code: allowlisted top-level modules only, returned as proxies. Its settings are
    frozen in the closure: rewriting this module's globals later changes nothing."""
    denied_by_module = types.MappingProxyType({k: frozenset(v) for k, v in denylist.items()})
    modules, import_module, module_type, missing = sys.modules, importlib.import_module, types.ModuleType, object()
    abort, violation, no_names = Abort, SandboxViolation, frozenset()
    refusal, is_type, is_subclass, type_ = _not_allowed, isinstance, issubclass, type

    def proxy(module: types.ModuleType) -> ModuleProxy:
        module_name = module.__name__
        denied = denied_by_module.get(module_name, no_names)

        def get(name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(f"module attribute {name!r} is not allowed")
            if name in denied:
                raise abort(violation(f"{module_name}.{name} is not allowed in the sandbox (it reaches attributes, "
                                      "code or namespaces named by strings at run time, or hands out type)"))
            value = getattr(module, name, missing)  # no AttributeError whose .obj would be the real module
            if value is missing:
                raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
            if is_type(value, type_) and is_subclass(value, type_):
                # A metaclass (typing.ABCMeta, typing.NamedTupleMeta, ...) builds a class from a dict whose keys
                # may be dunder methods named by strings; the static check never sees those names.
                raise abort(violation(f"{module_name}.{name} is a metaclass, which is not allowed in the sandbox"))
            if isinstance(value, module_type):
                if value.__name__.split(".")[0] in allowed:
                    return proxy(value)
                raise abort(violation(f"{module_name}.{name} is the module {value.__name__!r}, which is not allowed"))
            return value

        return ModuleProxy(get, module_name)

    def restricted_import(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (),
                          level: int = 0) -> Any:
        if level != 0:
            raise abort(violation("relative imports are not allowed"))
        top = name.split(".")[0]
        if top not in allowed:
            # Programs can only import allowlisted modules (check_program rejects the rest before anything runs),
            # so this is C code of an allowlisted module importing a helper through the program's builtins
            # (datetime.strftime -> time, datetime.strptime -> _strptime): hand out those helpers if loaded, load
            # nothing, and refuse every other name, so this layer holds even if a program reaches `__import__`.
            if name in helpers and name in modules and not fromlist:
                return modules[name]
            raise abort(violation(refusal(name)))
        module = import_module(name)
        return proxy(module) if fromlist else proxy(import_module(top))

    return restricted_import


restricted_import = _make_restricted_import(ALLOWED_MODULES, MODULE_ATTRIBUTE_DENYLIST, C_HELPER_IMPORTS)


# Stdlib modules imported lazily on first use by allowlisted functions (datetime.strptime -> _strptime) or by the
# interpreter itself: ast.unparse, which writes each statement's source into the trace, encodes an f-string's
# literal part with the unicode_escape codec (measured: every program with f'...\n...' failed in the sandbox), and
# str.encode/bytes.decode load their codec modules.
LAZY_STDLIB_DEPENDENCIES: tuple[str, ...] = ("_strptime", "encodings.unicode_escape", "encodings.raw_unicode_escape",
                                             "encodings.ascii", "encodings.latin_1")


def preload_allowed_modules() -> None:
    """Import every allowlisted module, and what they import lazily, before the audit hook is armed (imports
    later would need file access and are refused)."""
    for name in sorted(ALLOWED_MODULES) + list(LAZY_STDLIB_DEPENDENCIES):
        importlib.import_module(name)


def safe_builtins(print_fn: Callable[..., None]) -> dict[str, Any]:
    """The builtins dict generated code gets: the allowlist, a captured print and the restricted import."""
    table = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES if hasattr(builtins, name)}

    def sandbox_print(*args: Any, **kwargs: Any) -> None:  # a plain function: a bound method carries its instance
        print_fn(*args, **kwargs)

    sandbox_print.__name__ = "print"
    table["print"] = sandbox_print
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
    sys.addaudithook(_make_audit_hook(frozenset(allowed_imports), frozenset(sys.modules)))


def _make_audit_hook(allowed_imports: frozenset[str], armed_modules: frozenset[str]) -> Callable[[str, tuple], None]:
    """The hook with every setting copied into its closure: code that rewrites this module's globals (the block
    list, the exception classes) cannot change what it refuses."""
    blocked, own_compiles = tuple(BLOCKED_AUDIT_PREFIXES), tuple(_OWN_COMPILES)
    abort, violation, is_instance, get_attr, text = Abort, SandboxViolation, isinstance, getattr, (str, bytes)
    std_streams = (0, 1, 2)

    def hook(event: str, args: tuple) -> None:
        if event == "compile" and args and is_instance(args[0], text) and args[1:2] not in own_compiles:
            # The interpreter compiles AST nodes, symtables of checked statements ("<coc>") and literals
            # (ast.literal_eval: "<unknown>", parse only). Other text compiled at run time is code that never
            # passed the static check (typing's string annotations, functools.singledispatch, namedtuple, ...).
            raise abort(violation("blocked by the sandbox: compiling code from a string at run time"))
        if event == "exec" and args and get_attr(args[0], "co_filename", "<coc>") != "<coc>":
            raise abort(violation("blocked by the sandbox: running code that was not checked (exec)"))
        if event == "import":
            name = args[0]
            if name not in armed_modules and name.split(".")[0] not in allowed_imports:
                raise abort(violation(f"import of {name!r} is not allowed"))
            return
        if event.startswith(blocked):
            if event == "open" and args and args[0] in std_streams:
                return
            raise abort(violation(f"blocked by the sandbox: {event}"))

    return hook
