"""The one trace renderer: `coc-ros ask`, `send-goal`, `demo` and `bag-show` print runs with it, so a step
looks the same live, replayed from a bag or run without ROS.

Input is a trace event as a dict (TraceEvent.to_dict(), or a /coc/trace message through
coc_ros.ros.bag.trace_msg_to_dict). Each statement gets one line (who ran it, line number, source, changed
variables, duration) and, under it, every LM call with its expression and value (plus log-odds, options and
memo hits where the engine reports them) and every robot call with its result; errors are red. Event kinds this
module does not know are shown generically (kind + compact detail), so nothing the engine reports is hidden.
"""
from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.text import Text

from coc_ros.core.types import TraceEvent

# executor -> (tag, style); one table for every path
EXECUTOR_STYLE = {"python": ("py ", "green"), "lm": ("LM ", "magenta"), "robot": ("bot", "cyan"),
                  "system": ("sys", "dim"), "generator": ("gen", "blue")}
ERROR_STYLE = "bold red"
SOURCE_WIDTH = 44
VALUE_WIDTH = 80


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _seconds(value: Any) -> str:
    try:
        s = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{s:.2f} s" if s >= 0.01 else ""


def lm_call_text(call: dict[str, Any]) -> Text:
    """`LMulator: get_color('red_cube') -> 'red'  (0.41 s, log-odds +2.3)`."""
    text = Text("    LMulator: ", style="magenta")
    text.append(f"{_short(call.get('expression', '?'))} -> {_short(call.get('value', ''), 60)}", style="magenta")
    notes = [_seconds(call.get("seconds"))]
    if call.get("memo"):
        notes.append("memo")
    if isinstance(call.get("logodds"), (int, float)):
        notes.append(f"log-odds {call['logodds']:+.2f}")
    options = call.get("options")
    if isinstance(options, dict) and options:
        ranked = sorted(options.items(), key=lambda kv: -float(kv[1]) if isinstance(kv[1], (int, float)) else 0)
        notes.append("options " + ", ".join(f"{k} {v:+.2f}" if isinstance(v, (int, float)) else f"{k} {v}"
                                            for k, v in ranked[:4]))
    if call.get("decision"):
        notes.append(str(call["decision"]))
    notes = [n for n in notes if n]
    if notes:
        text.append(f"  ({'; '.join(notes)})", style="dim")
    return text


def robot_call_text(call: dict[str, Any]) -> Text:
    """`robot: pick_place('red_cube', 'trash_bin') -> 'placed ...'  (1.20 s)`; a failed call in red."""
    args = ", ".join(str(a) for a in call.get("args", []))
    failed = "error" in call
    text = Text(f"    robot: {call.get('skill', '?')}({_short(args, 60)}) -> ",
                style=ERROR_STYLE if failed else "cyan")
    text.append(_short(call["error"] if failed else call.get("result", ""), 80),
                style=ERROR_STYLE if failed else "cyan")
    seconds = _seconds(call.get("seconds"))
    if seconds:
        text.append(f"  ({seconds})", style="dim")
    return text


class TraceView:
    """Prints trace events to a console as they come.

    summary=False leaves out the run's error and end events, for callers that print the result themselves."""

    def __init__(self, console: Console, *, summary: bool = True):
        self.console = console
        self.summary = summary

    def show(self, event: dict[str, Any] | TraceEvent) -> None:
        e = event.to_dict() if isinstance(event, TraceEvent) else event
        kind = e.get("kind", "?")
        detail = e.get("detail") or {}
        if kind == "program":
            self._program(e, detail)
        elif kind in ("line", "answer"):
            self._statement(e, detail)
        elif kind == "run_start":
            self._print(Text(f"run {e.get('run_id', '')}: {detail.get('mode', '')} with {detail.get('llm', '?')}",
                             style="dim"))
        elif kind == "grounding":
            given, grounded = _short(detail.get("given", ""), 40), _short(detail.get("grounded", ""), 40)
            self._print(Text(f"ground  {given} -> {grounded}  ({detail.get('skill', '')})", style="yellow"))
        elif kind == "repair":
            self._print(Text(f"repair  round {detail.get('round', '?')}: {_short(detail.get('error', ''), 120)}",
                             style=ERROR_STYLE))
            if detail.get("program"):
                self.console.print(Syntax(str(detail["program"]), "python", line_numbers=True))
        elif kind == "intent":
            self._print(Text(f"intent  {_short(detail.get('message', ''), 160)}", style="yellow"))
        elif kind == "error":
            if self.summary:
                self._print(Text(f"error ({detail.get('error_kind', '?')}): {detail.get('error', '')}",
                                 style=ERROR_STYLE))
        elif kind == "run_end":
            if self.summary:
                self._run_end(e, detail)
        else:
            self._print(Text(f"{kind:<7} {e.get('executor', '')} L{e.get('line', 0)}  {_short(detail, 160)}",
                             style="dim"))

    def _print(self, text: Text) -> None:
        self.console.print(text, overflow="ellipsis", no_wrap=True, highlight=False)

    def _program(self, e: dict[str, Any], detail: dict[str, Any]) -> None:
        notes = [_seconds(e.get("duration"))]
        if detail.get("prompt_tokens") or detail.get("completion_tokens"):
            notes.append(f"{detail.get('prompt_tokens', 0)} prompt + {detail.get('completion_tokens', 0)} "
                         "completion tokens")
        notes = [n for n in notes if n]
        self.console.rule("program" + (f" ({', '.join(notes)})" if notes else ""))
        self.console.print(Syntax(e.get("source") or "", "python", line_numbers=True))
        self.console.rule("trace")

    def _statement(self, e: dict[str, Any], detail: dict[str, Any]) -> None:
        tag, style = EXECUTOR_STYLE.get(e.get("executor", ""), ("?  ", "white"))
        source = " ".join((e.get("source") or "").split())
        if len(source) > SOURCE_WIDTH:
            source = source[: SOURCE_WIDTH - 3] + "..."
        text = Text(f"{tag}", style=style)
        text.append(f" {int(e.get('line') or 0):>3}  {source:<{SOURCE_WIDTH}}")
        delta = ", ".join(f"{k}={v}" for k, v in (e.get("state_delta") or {}).items())
        if delta:
            text.append(f" {_short(delta, 60)}", style="dim")
        seconds = _seconds(e.get("duration"))
        if seconds:
            text.append(f"  {seconds}", style="dim")
        self._print(text)
        for call in detail.get("lm_calls", []):
            self._print(lm_call_text(call))
        for call in detail.get("robot_calls", []):
            self._print(robot_call_text(call))
        if detail.get("output"):
            self._print(Text(f"    printed: {_short(detail['output'], 100)}", style="dim"))
        if detail.get("error"):
            self._print(Text(f"    error: {_short(detail['error'], 160)}", style=ERROR_STYLE))

    def _run_end(self, e: dict[str, Any], detail: dict[str, Any]) -> None:
        stats = (f"{detail.get('lm_call_count', 0)} LM calls, {detail.get('prompt_tokens', 0)} prompt + "
                 f"{detail.get('completion_tokens', 0)} completion tokens, {float(e.get('duration') or 0):.1f} s")
        if detail.get("success"):
            self._print(Text(f"answer: {detail.get('answer')!r}  ({stats})", style="green"))
        else:
            self._print(Text(f"failed: {detail.get('error', '')}  ({stats})", style=ERROR_STYLE))
