"""The one trace renderer (coc_ros.trace_view): LM calls with expression, value, log-odds and memo; robot calls
with results; errors in red; the engine's newer event kinds; unknown kinds shown, not dropped."""
from __future__ import annotations

from rich.console import Console

from coc_ros.core.types import TraceEvent
from coc_ros.trace_view import TraceView


def render(events, summary=True):
    console = Console(record=True, width=140, force_terminal=True, color_system="truecolor")
    view = TraceView(console, summary=summary)
    for e in events:
        view.show(e)
    return console.export_text(clear=False), console.export_text(styles=True)


def line(**fields):
    base = {"kind": "line", "executor": "lm", "line": 3, "source": "if get_color(obj) == 'red':", "state_delta": {},
            "duration": 0.5, "detail": {}}
    return {**base, **fields}


def test_lm_calls_show_expression_value_logodds_memo_and_options():
    text, _ = render([line(detail={"lm_calls": [
        {"expression": "get_color('red_cube')", "value": "'red'", "seconds": 0.41, "decision": "choice",
         "options": {"red": 2.5, "green": -1.0}},
        {"expression": "is_red('apple')", "value": "True", "seconds": 0.0, "memo": True, "logodds": 1.75},
    ]})])
    assert "LMulator: get_color('red_cube') -> 'red'" in text
    assert "0.41 s" in text and "options red +2.50, green -1.00" in text and "choice" in text
    assert "LMulator: is_red('apple') -> True" in text and "memo" in text and "log-odds +1.75" in text


def test_robot_calls_with_results_and_errors_in_red():
    text, styled = render([line(executor="robot", source="pick_place(obj, 'bin')", detail={"robot_calls": [
        {"skill": "pick_place", "args": ["'red_cube'", "'bin'"], "result": "'placed red_cube in bin'", "seconds": 1.2},
        {"skill": "pick_place", "args": ["'unicorn'", "'bin'"], "error": "unknown_object: no object named 'unicorn'",
         "seconds": 0.0},
    ]})])
    assert "robot: pick_place('red_cube', 'bin') -> 'placed red_cube in bin'  (1.20 s)" in text
    assert "robot: pick_place('unicorn', 'bin') -> unknown_object" in text
    error_line = next(ln for ln in styled.splitlines() if "unicorn" in ln)
    assert "\x1b[1;31m" in error_line  # bold red


def test_engine_event_kinds_and_unknown_kinds_are_shown():
    events = [
        {"kind": "grounding", "executor": "system", "detail": {"given": "red block", "grounded": "red_cube",
                                                               "skill": "pick_place"}},
        {"kind": "repair", "executor": "generator", "detail": {"round": 1, "error": "robot error: unknown_object",
                                                              "program": "pick_place('red_cube', 'box')"}},
        {"kind": "intent", "executor": "system", "detail": {"message": "the program made no motion"}},
        {"kind": "telemetry", "executor": "system", "line": 0, "detail": {"battery": 0.93}},
    ]
    text, _ = render(events)
    assert "red block -> red_cube" in text and "pick_place" in text
    assert "repair  round 1: robot error: unknown_object" in text and "pick_place('red_cube', 'box')" in text
    assert "intent  the program made no motion" in text
    assert "telemetry" in text and '"battery": 0.93' in text


def test_engine_trace_events_and_summary_switch():
    start = TraceEvent(run_id="r", step=0, kind="run_start", executor="system",
                       detail={"mode": "coc-interweave", "llm": "scripted"})
    end = TraceEvent(run_id="r", step=2, kind="run_end", executor="system", duration=1.5,
                     detail={"success": False, "error": "boom", "lm_call_count": 2})
    text, _ = render([start, end])
    assert "coc-interweave with scripted" in text and "failed: boom" in text and "2 LM calls" in text
    text, _ = render([start, end], summary=False)
    assert "failed: boom" not in text
