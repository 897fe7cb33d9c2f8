"""The per-statement Chain of Code interpreter. Runs inside the sandbox worker; knows nothing of ROS or LLMs.

Python executes every statement it can. Calls to functions the program never defines are bound, when looked
up, to `SemanticFunction` proxies that ask the host's LMulator for the call's value with the arguments as
evaluated at that moment, so a semantic helper inside a loop, a comprehension or a nested call is simulated
each time it is called and nothing is ever re-executed. A line that is not Python (or that reads variables
nobody defined) is simulated as a whole: the LM returns the variables it changes. Any other exception is a
real error and ends the run.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import symtable
import time
from typing import Any, Protocol

from coc_ros.core.program import ParsedProgram
from coc_ros.core.types import (Abort, LimitExceeded, Limits, Mode, ProgramError, SimulationError, clear_aborts,
                                pending_abort)
from coc_ros.sandbox.policy import Uncopyable, safe_builtins
from coc_ros.sandbox.usage import analyse_usage

REPR_LIMIT = 200
MAX_DELTA_ENTRIES = 100  # variables shown per step; one statement may change thousands
STATE_PROMPT_LIMIT = 600  # characters of variables in one LMulator prompt
STATE_VALUE_LIMIT = 160  # characters of one variable's repr there


def _binder(target: ast.expr, where: ast.stmt) -> Any:
    """Code that assigns the value in `_coc_item` to an assignment target (a for loop's, a with item's)."""
    assign = ast.copy_location(ast.Assign(targets=[target], value=ast.Name("_coc_item", ast.Load())), where)
    return compile(ast.fix_missing_locations(ast.Module(body=[assign], type_ignores=[])), "<coc>", "exec")


def _bind(binder: Any, value: Any, ns: dict[str, Any]) -> None:
    """Run a `_binder`'s code with `value`, leaving no `_coc_item` behind in the program's variables."""
    dict.__setitem__(ns, "_coc_item", value)
    try:
        exec(binder, ns)
    finally:
        dict.pop(ns, "_coc_item", None)


class Host(Protocol):
    """What the interpreter needs from the process that hosts it."""

    def simulate(self, kind: str, line: int, source: str, expression: str, state: dict[str, str],
                 hints: dict[str, Any]) -> dict[str, Any]:
        """The LMulator's prediction: {"value": Python literal text, "prompt_id", "reply_id", "detail"}.
        `hints` say how the program uses the value (coc_ros.sandbox.usage)."""

    def robot(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call a robot skill through the host's checked API; raise RuntimeError-like on failure."""

    def event(self, event: dict[str, Any]) -> None:
        """Report one executed step."""


class RobotError(Exception):
    """A robot skill failed (unknown object, unreachable, ...). Generated code may catch it; if not, the run ends."""


def safe_repr(value: Any, limit: int = REPR_LIMIT) -> str:
    if isinstance(value, (str, bytes)) and len(value) > limit:
        value = value[:limit]  # only the start is shown: never build the repr of a long string
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Return(BaseException):
    def __init__(self, value: Any):
        self.value = value


class _Break(BaseException):
    pass


class _Continue(BaseException):
    pass


@dataclasses.dataclass
class _StepContext:
    """Collects what happened while one statement ran (LM calls, robot calls, printed text)."""

    line: int
    source: str
    lm_calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    robot_calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    output: list[str] = dataclasses.field(default_factory=list)
    simulated_line: bool = False
    value: Any = None  # what the step evaluated to (an if/while test, a for iterator, a return value)

    @property
    def executor(self) -> str:
        if self.robot_calls:
            return "robot"
        if self.lm_calls or self.simulated_line:
            return "lm"
        return "python"


class SemanticFunction(Uncopyable):
    """Stands for an undefined helper such as is_fruit(x); each call is predicted by the LMulator."""

    __slots__ = ("_coc_name", "_coc_interp")

    def __init__(self, name: str, interp: Interpreter):
        self._coc_name = name
        self._coc_interp = interp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._coc_interp.simulate_call(self._coc_name, args, kwargs)

    def __repr__(self) -> str:
        return f"<semantic function {self._coc_name}>"


class RobotFunction(Uncopyable):
    """A robot skill the program may call; the host performs it through the checked robot API."""

    __slots__ = ("_coc_name", "_coc_interp")

    def __init__(self, name: str, interp: Interpreter):
        self._coc_name = name
        self._coc_interp = interp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._coc_interp.call_robot(self._coc_name, args, kwargs)

    def __repr__(self) -> str:
        return f"<robot skill {self._coc_name}>"


class _ModuleNamespace(dict):
    """The program's global state. A missing name that the program calls becomes a semantic function."""

    def __init__(self, interp: Interpreter):
        super().__init__()
        self._interp = interp

    def __missing__(self, key: str) -> Any:
        return self._interp.resolve_missing(key)


class _FrameNamespace(dict):
    """Locals of an interpreted function call; reads fall back to the program's global state."""

    def __init__(self, interp: Interpreter, module_ns: _ModuleNamespace):
        super().__init__()
        self._interp = interp
        self._module_ns = module_ns

    def __missing__(self, key: str) -> Any:
        if dict.__contains__(self._module_ns, key):
            return dict.__getitem__(self._module_ns, key)
        return self._interp.resolve_missing(key)


class Interpreter:
    """Executes a parsed program one statement at a time inside the sandbox."""

    def __init__(self, parsed: ParsedProgram, host: Host, *, mode: Mode, limits: Limits,
                 robot_functions: frozenset[str] = frozenset()):
        self.parsed = parsed
        self.host = host
        self.mode = mode
        self.limits = limits
        self.lines = parsed.source.split("\n")
        self.steps = 0
        self.lm_calls = 0
        self.output_chars = 0
        self.error_line: int | None = None  # line of the innermost statement that raised, for error messages
        self._code_cache: dict[int, Any] = {}
        self._free_cache: dict[int, frozenset[str]] = {}
        self._contexts: list[_StepContext] = []
        self.builtins = safe_builtins(self._print)
        for name in robot_functions:
            self.builtins[name] = RobotFunction(name, self)
        self.builtins["RobotError"] = RobotError
        self.called_names = frozenset(
            n.func.id for n in ast.walk(parsed.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        )
        self.usage = analyse_usage(parsed.tree)
        self.state = _ModuleNamespace(self)
        dict.__setitem__(self.state, "__builtins__", self.builtins)
        dict.__setitem__(self.state, "__name__", "coc_program")  # read by class bodies for __module__

    # ----------------------------------------------------------------------------------------------- entry point
    def run(self) -> None:
        """Run the whole program. Raises Abort(CocError) on any failure; the state holds the result."""
        clear_aborts()
        try:
            self._exec_block(self.parsed.tree.body, self.state)
            swallowed = pending_abort()
            if swallowed is not None:  # the last statement swallowed it (a `with` whose __exit__ returns True)
                raise swallowed
        except _Return:
            raise Abort(ProgramError("'return' outside a function")) from None
        except (_Break, _Continue):
            raise Abort(ProgramError("'break'/'continue' outside a loop")) from None

    def user_state(self, ns: dict[str, Any] | None = None) -> dict[str, Any]:
        """Variables a person would call the program's state (no builtins, functions or modules)."""
        ns = self.state if ns is None else ns
        return {
            k: v for k, v in dict.items(ns)
            if not k.startswith("__") and not callable(v) and type(v).__name__ != "ModuleProxy"
        }

    # ------------------------------------------------------------------------------------------ name resolution
    def resolve_missing(self, key: str) -> Any:
        if key in self.builtins:
            raise KeyError(key)  # let Python's own lookup find the builtin
        if key in self.called_names and self.mode != Mode.COC_PYTHON:
            return SemanticFunction(key, self)
        raise KeyError(key)

    def _is_defined(self, name: str, ns: dict[str, Any]) -> bool:
        return (
            dict.__contains__(ns, name)
            or dict.__contains__(self.state, name)
            or name in self.builtins
            or (name in self.called_names and self.mode != Mode.COC_PYTHON)
        )

    def _free_names(self, node: ast.AST) -> frozenset[str]:
        """Names a statement or expression reads from outside itself (comprehension/lambda locals excluded)."""
        cached = self._free_cache.get(id(node))
        if cached is not None:
            return cached
        src = ast.unparse(node)
        names: set[str] = set()
        try:
            table = symtable.symtable(src, "<coc>", "exec")
        except SyntaxError:
            table = None
        if table is not None:
            stack = [(table, True)]
            while stack:
                t, top = stack.pop()
                for sym in t.get_symbols():
                    if not sym.is_referenced():
                        continue
                    if top or sym.is_global():
                        names.add(sym.get_name())
                stack.extend((child, False) for child in t.get_children())
        result = frozenset(names)
        self._free_cache[id(node)] = result
        return result

    def _undefined(self, node: ast.AST, ns: dict[str, Any]) -> list[str]:
        return sorted(n for n in self._free_names(node) if not self._is_defined(n, ns))

    # ------------------------------------------------------------------------------------------------ execution
    def _exec_block(self, body: list[ast.stmt], ns: dict[str, Any]) -> None:
        for stmt in body:
            self._exec_stmt(stmt, ns)

    def _count_step(self) -> None:
        swallowed = pending_abort()
        if swallowed is not None:  # an earlier statement swallowed it: the run ends there all the same
            raise swallowed
        self.steps += 1
        if self.steps > self.limits.max_statements:
            raise Abort(LimitExceeded(f"statement budget exceeded: more than {self.limits.max_statements} "
                                      "statements executed (an endless loop?)"))

    def _source_of(self, node: ast.AST) -> str:
        line = getattr(node, "lineno", 0)
        if line in self.parsed.pseudo_lines:
            return self.parsed.pseudo_lines[line]
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1].strip()
        return ast.unparse(node)[:200]

    def _begin(self, node: ast.AST, ns: dict[str, Any]) -> tuple[_StepContext, dict[str, str], float]:
        self._count_step()
        ctx = _StepContext(line=getattr(node, "lineno", 0), source=self._source_of(node))
        self._contexts.append(ctx)
        return ctx, self._snapshot(ns), time.monotonic()

    def _end(self, ctx: _StepContext, before: dict[str, str], start: float, ns: dict[str, Any],
             kind: str = "line", error: str = "", quiet: bool = False) -> None:
        self._contexts.pop()
        after = self._snapshot(ns)
        delta = {k: v for k, v in after.items() if before.get(k) != v}
        for k in before.keys() - after.keys():
            delta[k] = "<deleted>"
        if len(delta) > MAX_DELTA_ENTRIES:  # the trace stays bounded whatever one statement changes
            hidden = len(delta) - MAX_DELTA_ENTRIES
            delta = dict(list(delta.items())[:MAX_DELTA_ENTRIES])
            delta["..."] = f"<{hidden} more changed variables not shown>"
        detail: dict[str, Any] = {}
        if ctx.lm_calls:
            detail["lm_calls"] = ctx.lm_calls
        if ctx.robot_calls:
            detail["robot_calls"] = ctx.robot_calls
        if ctx.output:
            detail["output"] = "".join(ctx.output)[:2000]
        if ctx.simulated_line:
            detail["simulated_line"] = True
        if error:
            detail["error"] = error
        if quiet and not delta and not detail:
            return  # bookkeeping steps (a for loop's iterator, its exhaustion) only show when something happened
        self.host.event({
            "kind": kind, "executor": ctx.executor, "line": ctx.line, "source": ctx.source,
            "state_delta": delta, "duration": time.monotonic() - start, "detail": detail,
        })

    def _snapshot(self, ns: dict[str, Any]) -> dict[str, str]:
        return {k: safe_repr(v) for k, v in self.user_state(ns).items()}

    def _exec_stmt(self, stmt: ast.stmt, ns: dict[str, Any]) -> None:
        marker = self.parsed.is_marker(stmt)
        if marker is not None:
            self._exec_pseudo(stmt, marker, ns)
        elif isinstance(stmt, ast.If):
            ctx, before, start = self._begin(stmt, ns)
            self._run_step(ctx, before, start, ns, lambda: self._eval(stmt.test, ns, ctx))
            self._exec_block(stmt.body if ctx.value else stmt.orelse, ns)
        elif isinstance(stmt, ast.For):
            self._exec_for(stmt, ns)
        elif isinstance(stmt, ast.While):
            self._exec_while(stmt, ns)
        elif isinstance(stmt, ast.FunctionDef):
            self._exec_def(stmt, ns)
        elif isinstance(stmt, ast.Try):
            self._exec_try(stmt, ns)
        elif isinstance(stmt, ast.With):
            self._exec_with(stmt, ns)
        elif isinstance(stmt, ast.Return):
            ctx, before, start = self._begin(stmt, ns)
            self._run_step(ctx, before, start, ns,
                           lambda: self._eval(stmt.value, ns, ctx) if stmt.value is not None else None)
            raise _Return(ctx.value)
        elif isinstance(stmt, ast.Pass):
            self._count_step()  # does nothing, so it reports nothing (an endless `while True: pass` floods no trace)
        elif isinstance(stmt, ast.Break):
            self._count_step()
            raise _Break()
        elif isinstance(stmt, ast.Continue):
            self._count_step()
            raise _Continue()
        else:
            ctx, before, start = self._begin(stmt, ns)
            self._run_step(ctx, before, start, ns, lambda: self._exec_simple(stmt, ns, ctx))

    def _run_step(self, ctx: _StepContext, before: dict[str, str], start: float, ns: dict[str, Any], fn,
                  quiet: bool = False) -> None:
        """Run one step; report it (also when it fails) and turn real exceptions into the right outcome."""
        try:
            ctx.value = fn()
        except (Abort, _Return, _Break, _Continue):
            self._end(ctx, before, start, ns, quiet=quiet)
            raise
        except Exception as exc:  # the program's own exception: propagate as is (try/except may catch it)
            self._end(ctx, before, start, ns, error=f"{type(exc).__name__}: {exc}")
            if self.error_line is None:
                self.error_line = ctx.line
            raise
        self._end(ctx, before, start, ns, quiet=quiet)

    def _exec_simple(self, stmt: ast.stmt, ns: dict[str, Any], ctx: _StepContext) -> None:
        undefined = self._undefined(stmt, ns)
        if undefined:
            self._simulate_line(stmt, ns, ctx, reason=f"undefined name(s): {', '.join(undefined)}")
            return
        code = self._code_cache.get(id(stmt))
        if code is None:
            code = compile(ast.Module(body=[stmt], type_ignores=[]), "<coc>", "exec")
            self._code_cache[id(stmt)] = code
        exec(code, ns)

    def _eval(self, expr: ast.expr, ns: dict[str, Any], ctx: _StepContext) -> Any:
        undefined = self._undefined(expr, ns)
        if undefined:
            if self.mode == Mode.COC_PYTHON:
                raise NameError(f"name {undefined[0]!r} is not defined")
            return self._simulate_value("call", ast.unparse(expr), ns, ctx)
        code = self._code_cache.get(id(expr))
        if code is None:
            code = compile(ast.Expression(body=expr), "<coc>", "eval")
            self._code_cache[id(expr)] = code
        return eval(code, ns)

    def _exec_pseudo(self, stmt: ast.stmt, line: int, ns: dict[str, Any]) -> None:
        ctx, before, start = self._begin(stmt, ns)
        ctx.source = self.parsed.pseudo_lines[line]
        self._run_step(ctx, before, start, ns, lambda: self._simulate_line(stmt, ns, ctx, reason="not Python"))
        if isinstance(stmt, ast.If):
            self._exec_block(stmt.body, ns)

    def _exec_for(self, stmt: ast.For, ns: dict[str, Any]) -> None:
        ctx, before, start = self._begin(stmt, ns)
        self._run_step(ctx, before, start, ns, lambda: iter(self._eval(stmt.iter, ns, ctx)), quiet=True)
        iterator = ctx.value
        target = _binder(stmt.target, stmt)
        broke = False
        while True:
            ctx, before, start = self._begin(stmt, ns)
            done = False

            def advance() -> None:
                nonlocal done
                try:
                    value = next(iterator)
                except StopIteration:
                    done = True
                    return
                _bind(target, value, ns)

            self._run_step(ctx, before, start, ns, advance, quiet=True)
            if done:
                break
            try:
                self._exec_block(stmt.body, ns)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke:
            self._exec_block(stmt.orelse, ns)

    def _exec_while(self, stmt: ast.While, ns: dict[str, Any]) -> None:
        while True:
            ctx, before, start = self._begin(stmt, ns)
            # quiet: a loop test that changed nothing and asked nobody is bookkeeping, like a for loop's iterator
            self._run_step(ctx, before, start, ns, lambda: self._eval(stmt.test, ns, ctx), quiet=True)
            if not ctx.value:
                self._exec_block(stmt.orelse, ns)
                return
            try:
                self._exec_block(stmt.body, ns)
            except _Break:
                return
            except _Continue:
                continue

    def _exec_with(self, stmt: ast.With, ns: dict[str, Any], index: int = 0) -> None:
        """`with a as x, b:` enters its managers one step each and runs its body statement by statement, like any
        block: counted against the statement budget, traced line by line, an undefined helper in it simulated on
        its own line (run as one statement, the whole block went to the LMulator, robot calls included). Leaving
        it calls `__exit__` as Python does, except after an Abort (cancel, a limit): no program code runs then."""
        if index == len(stmt.items):
            self._exec_block(stmt.body, ns)
            return
        item = stmt.items[index]
        ctx, before, start = self._begin(stmt, ns)

        def enter() -> Any:
            manager = self._eval(item.context_expr, ns, ctx)
            kind = type(manager)
            if not (hasattr(kind, "__enter__") and hasattr(kind, "__exit__")):
                raise TypeError(f"{kind.__name__!r} object does not support the context manager protocol")
            value = kind.__enter__(manager)
            if item.optional_vars is not None:
                _bind(_binder(item.optional_vars, stmt), value, ns)
            return lambda *exc: kind.__exit__(manager, *exc)

        self._run_step(ctx, before, start, ns, enter)
        leave = ctx.value
        try:
            self._exec_with(stmt, ns, index + 1)
        except (_Return, _Break, _Continue):
            leave(None, None, None)
            raise
        except Exception as exc:  # the program's own exception: the manager may handle it (Abort passes by)
            if not leave(type(exc), exc, exc.__traceback__):
                raise
        else:
            leave(None, None, None)

    def _exec_try(self, stmt: ast.Try, ns: dict[str, Any]) -> None:
        try:
            try:
                self._exec_block(stmt.body, ns)
            except Exception as exc:  # only the program's own exceptions; Abort and control flow pass through
                for handler in stmt.handlers:
                    if handler.type is None or isinstance(exc, self._handler_types(handler, ns)):
                        if handler.name:
                            dict.__setitem__(ns, handler.name, exc)
                        self._exec_block(handler.body, ns)
                        break
                else:
                    raise
            else:
                self._exec_block(stmt.orelse, ns)
        finally:
            self._exec_block(stmt.finalbody, ns)

    def _handler_types(self, handler: ast.ExceptHandler, ns: dict[str, Any]) -> Any:
        code = compile(ast.Expression(body=handler.type), "<coc>", "eval")
        return eval(code, ns)

    def _exec_def(self, stmt: ast.FunctionDef, ns: dict[str, Any]) -> None:
        """Define a function whose body this interpreter runs statement by statement on each call."""
        ctx, before, start = self._begin(stmt, ns)

        def define() -> None:
            # Compile a stub with the same signature to get Python's own argument binding and defaults.
            stub = ast.copy_location(ast.FunctionDef(name=stmt.name, args=stmt.args, body=[ast.Pass()],
                                                     decorator_list=[], returns=None), stmt)
            holder: dict[str, Any] = {"__builtins__": self.builtins}
            holder.update({k: v for k, v in dict.items(ns) if k != "__builtins__"})
            exec(compile(ast.fix_missing_locations(ast.Module(body=[stub], type_ignores=[])), "<coc>", "exec"),
                 holder)
            binder = holder[stmt.name]
            interp = self
            module_ns = self.state

            def interpreted(*args: Any, **kwargs: Any) -> Any:
                frame = _FrameNamespace(interp, module_ns)
                dict.__setitem__(frame, "__builtins__", interp.builtins)
                # A class statement in the body runs with this frame as its globals and reads __module__ from it.
                dict.__setitem__(frame, "__name__", module_ns["__name__"])
                # Bind arguments exactly as Python would (errors included), then copy them into the frame.
                bound = inspect.signature(binder).bind(*args, **kwargs)
                bound.apply_defaults()
                for name, value in bound.arguments.items():
                    dict.__setitem__(frame, name, value)
                try:
                    interp._exec_block(stmt.body, frame)
                except _Return as ret:
                    return ret.value
                return None

            interpreted.__name__ = stmt.name
            func: Any = interpreted
            for deco in reversed(stmt.decorator_list):
                func = eval(compile(ast.Expression(body=deco), "<coc>", "eval"), ns)(func)
            dict.__setitem__(ns, stmt.name, func)

        self._run_step(ctx, before, start, ns, define)

    # ------------------------------------------------------------------------------------------- LM and robot
    def _check_lm_budget(self) -> None:
        self.lm_calls += 1
        if self.lm_calls > self.limits.max_lm_calls:
            raise Abort(LimitExceeded(f"LM call budget exceeded: more than {self.limits.max_lm_calls} LMulator calls"))

    def _prompt_state(self, ns: dict[str, Any], focus: set[str]) -> dict[str, str]:
        """Variables for the LMulator prompt: only those the line mentions, each truncated. Everything after the
        cached prompt prefix is evaluated anew for every call; the whole state (e.g. a list of every detected
        object) made each call cost hundreds of tokens where tens carry the information."""
        variables = self.user_state(self.state)
        if ns is not self.state:
            variables.update(self.user_state(ns))
        out: dict[str, str] = {}
        used = 0
        for k in sorted(k for k in variables if k in focus):
            text = safe_repr(variables[k], STATE_VALUE_LIMIT)
            if used + len(text) > STATE_PROMPT_LIMIT:
                break
            out[k] = text
            used += len(text)
        return out

    def _current(self) -> _StepContext:
        return self._contexts[-1]

    def simulate_call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.mode == Mode.COC_PYTHON:
            raise NameError(f"name {name!r} is not defined")
        parts = [safe_repr(a, 500) for a in args] + [f"{k}={safe_repr(v, 500)}" for k, v in kwargs.items()]
        expression = f"{name}({', '.join(parts)})"
        ctx = self._current()
        ns = self.state
        usage = self.usage.get(name, {})
        hints = {**usage, "helper": name, "args": [_jsonable(a) for a in args]}
        return self._simulate_value("call", expression, ns, ctx, hints)

    def _simulate_value(self, kind: str, expression: str, ns: dict[str, Any], ctx: _StepContext,
                        hints: dict[str, Any] | None = None) -> Any:
        focus = set(self._names_in(ctx.source))
        start = time.monotonic()
        reply = self.host.simulate(kind, ctx.line, ctx.source, expression, self._prompt_state(ns, focus), hints or {})
        if reply.get("model", True):  # a memoized or camera-answered call cost no LM call
            self._check_lm_budget()
        value = _literal(reply["value"])
        ctx.lm_calls.append({"expression": expression, "value": safe_repr(value), **_ids(reply),
                             **reply.get("detail", {}), "seconds": round(time.monotonic() - start, 3)})
        return value

    def _simulate_line(self, stmt: ast.stmt, ns: dict[str, Any], ctx: _StepContext, reason: str) -> None:
        if self.mode == Mode.COC_PYTHON:
            if reason == "not Python":
                raise Abort(ProgramError(f"line {ctx.line} is not Python (coc-python runs Python only): {ctx.source}"))
            raise NameError(reason)
        self._check_lm_budget()
        start = time.monotonic()
        reply = self.host.simulate("line", ctx.line, ctx.source, ctx.source,
                                   self._prompt_state(ns, set(self._names_in(ctx.source))), {})
        value = _literal(reply["value"])
        if not isinstance(value, dict) or not all(isinstance(k, str) and k.isidentifier() and not k.startswith("__")
                                                  for k in value):
            raise Abort(SimulationError(f"line {ctx.line}: the LMulator must return a dict of variable names to "
                                        f"values, got {safe_repr(value)}"))
        for k, v in value.items():
            dict.__setitem__(ns, k, v)
        ctx.simulated_line = True
        ctx.lm_calls.append({"expression": ctx.source, "value": safe_repr(value), "reason": reason, **_ids(reply),
                             "seconds": round(time.monotonic() - start, 3)})

    @staticmethod
    def _names_in(source: str) -> list[str]:
        return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source)

    def call_robot(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ctx = self._current()
        start = time.monotonic()
        try:
            result = self.host.robot(name, list(args), dict(kwargs))
        except RobotError as exc:
            ctx.robot_calls.append({"skill": name, "args": [safe_repr(a) for a in args], "error": str(exc),
                                    "seconds": round(time.monotonic() - start, 3)})
            raise
        ctx.robot_calls.append({"skill": name, "args": [safe_repr(a) for a in args], "result": safe_repr(result),
                                "seconds": round(time.monotonic() - start, 3)})
        return result

    def _print(self, *args: Any, sep: str = " ", end: str = "\n", **_: Any) -> None:
        text = sep.join(str(a) for a in args) + end
        self.output_chars += len(text)
        if self.output_chars > self.limits.max_output_chars:
            raise Abort(LimitExceeded(f"output limit exceeded: the program printed more than "
                                      f"{self.limits.max_output_chars} characters"))
        if self._contexts:
            self._contexts[-1].output.append(text)


def _jsonable(value: Any) -> Any:
    """An argument as the host sees it: JSON scalars and lists of them as they are, anything else as repr text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value if not isinstance(value, str) else value[:500]
    if isinstance(value, (list, tuple)) and len(value) <= 50:
        return [_jsonable(v) for v in value]
    return safe_repr(value)


def _ids(reply: dict[str, Any]) -> dict[str, str]:
    return {k: str(reply[k]) for k in ("prompt_id", "reply_id") if reply.get(k)}


def _literal(text: str) -> Any:
    """Values from the host were validated there; parse again here (the worker trusts nothing)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise Abort(SimulationError(f"LMulator reply is not a Python literal: {text[:200]!r} ({exc})")) from None
