"""Host-side bounds of a sandbox run: what a program sends the host is bounded (the run ends with a clear "limit"
error, the host's memory stays flat) and the wall-clock limit holds whatever runs as native Python inside one
statement (comprehensions, generator expressions, lambdas, class bodies)."""
from __future__ import annotations

import re
import time

import psutil
import pytest

from coc_ros.core.types import LimitExceeded, Limits
from coc_ros.engine.runner import Engine
from coc_ros.llm.scripted import ScriptedLLM
from coc_ros.sandbox.host import MAX_RUN_BYTES, SandboxRun
from coc_ros.sandbox.interpreter import MAX_DELTA_ENTRIES

pytestmark = pytest.mark.timeout(90)

VARIABLES = 2400
# The reported case: a ~17 KB program whose every statement changes thousands of long variables. It drove the host
# to 11.7 GB and ran 4 min 35 s against a 120 s limit before the trace was bounded.
FLOOD = ("n = 0\nwhile True:\n    n += 1\n    " + ", ".join(f"v{i}" for i in range(VARIABLES))
         + f" = [str(n) * 3000 + str(i) for i in range({VARIABLES})]\n")


def _run(program: str, **limits) -> tuple[BaseException | dict, float, list[dict]]:
    events: list[dict] = []
    run = SandboxRun(limits=Limits(**limits), simulate=lambda m: {"value": "1"}, robot=None,
                     on_event=events.append)
    start = time.monotonic()
    try:
        outcome: BaseException | dict = run.run(program, "coc-python", [])
    except Exception as exc:
        outcome = exc
    return outcome, time.monotonic() - start, events


def test_flood_of_long_variables_ends_with_a_limit_and_bounded_host_memory():
    """Through the engine, as `coc-ros ask` runs it: the engine process is the host whose memory was unbounded."""
    assert 15_000 < len(FLOOD) < 20_000
    engine = Engine(ScriptedLLM([f"```python\n{FLOOD}```"]), limits=Limits(timeout_s=60.0))
    host = psutil.Process()
    rss_before = host.memory_info().rss
    start = time.monotonic()
    result = engine.run("flood the trace", "coc-python")
    seconds = time.monotonic() - start
    growth_mb = (host.memory_info().rss - rss_before) / 2**20
    assert not result.success and result.error_kind == "limit", (result.error_kind, result.error)
    assert re.search("trace limit exceeded|statement budget|timeout", result.error), result.error
    assert seconds < 60.0
    assert growth_mb < 200, f"host memory grew by {growth_mb:.0f} MB"
    assert sum(len(e.to_json()) for e in result.trace) < 2 * MAX_RUN_BYTES
    assert all(len(e.state_delta) <= MAX_DELTA_ENTRIES + 1 for e in result.trace)
    assert any("more changed variables not shown" in e.state_delta.get("...", "") for e in result.trace)


@pytest.mark.parametrize("program", [
    "answer = sum(1 for _ in iter(int, 1))",  # a generator expression that never ends
    "answer = [x for x in iter(int, 1) if x]",  # a comprehension that never ends nor grows
    "f = lambda: max(x for x in iter(int, 1))\nanswer = f()",
    "class Spin:\n    while True:\n        pass\nanswer = 1",  # a class body runs as one native statement
], ids=["genexp", "listcomp", "lambda", "class_body"])
def test_native_constructs_end_at_the_wall_clock_limit(program):
    outcome, seconds, _ = _run(program, timeout_s=2.0)
    assert isinstance(outcome, LimitExceeded), outcome
    assert "timeout" in str(outcome) or "CPU time" in str(outcome), outcome
    assert seconds < 2.0 + 1.5


def test_the_next_run_after_a_limit_answers_normally():
    _run(FLOOD, timeout_s=1.0)
    outcome, _, _ = _run("answer = 6 * 7", timeout_s=10.0)
    assert isinstance(outcome, dict) and outcome["answer"] == 42, outcome


# A worker that no longer follows the protocol (as if layer 1 were bypassed and the program wrote to the pipe):
# the host's bounds hold on their own.
ROGUE_WORKERS = {
    "event_flood": ("import sys\nsys.stdin.readline()\nwhile True:\n    sys.stdout.write('{\"type\": \"event\"}\\n')",
                    "trace limit exceeded: more than"),
    "endless_line": ("import sys\nsys.stdin.readline()\nwhile True:\n    sys.stdout.write('x' * 65536)",
                     "one event was larger than"),
    "deep_nesting": ("import sys\nsys.stdin.readline()\nsys.stdout.write('[' * 100000 + ']' * 100000 + '\\n')\n"
                     "sys.stdout.flush()\nsys.stdin.readline()", "protocol error"),
    "simulate_flood": ("import sys\nsys.stdin.readline()\nwhile True:\n"
                       "    sys.stdout.write('{\"type\": \"simulate\"}\\n')\n    sys.stdout.flush()\n"
                       "    sys.stdin.readline()",
                       "LM call budget exceeded"),
    "silent_forever": ("import time\nwhile True:\n    time.sleep(1)", "timeout"),
}


@pytest.mark.parametrize("name", sorted(ROGUE_WORKERS))
def test_host_bounds_hold_against_a_rogue_worker(name, monkeypatch):
    import subprocess

    import coc_ros.sandbox.host as host

    code, error = ROGUE_WORKERS[name]
    real_popen = subprocess.Popen

    def rogue_popen(args, **kwargs):
        return real_popen([args[0], "-c", code], **kwargs)

    monkeypatch.setattr(host.subprocess, "Popen", rogue_popen)
    host_process = psutil.Process()
    rss_before = host_process.memory_info().rss
    children_before = {p.pid for p in host_process.children(recursive=True)}
    outcome, seconds, _ = _run("answer = 1", timeout_s=5.0, max_lm_calls=20)
    assert error in str(outcome), outcome
    assert seconds < 5.0 + 1.5
    assert (host_process.memory_info().rss - rss_before) / 2**20 < 200
    assert not {p.pid for p in host_process.children(recursive=True)} - children_before


class _QuietHost:
    def simulate(self, *args, **kwargs):
        raise AssertionError("no LMulator call expected")

    def robot(self, *args, **kwargs):
        raise AssertionError("no robot call expected")

    def event(self, event):
        pass


@pytest.mark.parametrize("program", [
    "import operator\nwith swallow:\n    g = operator.attrgetter\nanswer = 1",  # a statement after the swallowing one
    "import operator\nanswer = 1\nwith swallow:\n    g = operator.attrgetter",  # the swallowing one is the last
])
def test_a_swallowed_sandbox_violation_still_ends_the_run(program):
    """Red-team finding: a context manager whose __exit__ returns True swallowed the Abort of a refused attribute, and
    the run succeeded. The first Abort of a run is kept and raised again (here the program gets such a context
    manager directly, since the sandbox itself hands out none: the metaclass that built one is refused too)."""
    import contextlib

    from coc_ros.core.program import parse_program
    from coc_ros.core.types import Abort, Mode
    from coc_ros.sandbox.interpreter import Interpreter

    interp = Interpreter(parse_program(program), _QuietHost(), mode=Mode.COC_PYTHON, limits=Limits())
    interp.builtins["swallow"] = contextlib.suppress(BaseException)
    with pytest.raises(Abort) as raised:
        interp.run()
    assert raised.value.error.kind == "sandbox" and "operator.attrgetter is not allowed" in str(raised.value.error)
    # the next run starts clean
    clean = Interpreter(parse_program("answer = 42"), _QuietHost(), mode=Mode.COC_PYTHON, limits=Limits())
    clean.run()
    assert clean.user_state()["answer"] == 42


@pytest.mark.parametrize("program, error", [
    ("answer = " + "1+" * 990 + "1", "nested too deeply|recursion"),  # raised out of Engine.run before
    ("answer = " + "not " * 4000 + "1", "nested too deeply|recursion"),
    ("a b\n" * 1500 + "answer = 1", "more than 200 lines of the program are not Python"),  # took 43 s to parse
])
def test_a_pathological_program_is_a_clear_error_not_a_host_crash_or_stall(program, error):
    for mode in ("coc-interweave", "coc-python"):
        engine = Engine(ScriptedLLM([f"```python\n{program}\n```"]), limits=Limits(timeout_s=3.0))
        start = time.monotonic()
        result = engine.run("what is it?", mode)
        assert time.monotonic() - start < 10.0
        assert not result.success and re.search(error, result.error, re.IGNORECASE), (mode, result.error)
        assert result.trace[-1].kind == "run_end"
