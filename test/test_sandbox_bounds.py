"""Host-side bounds of a sandbox run: what a program sends the host is bounded (the run ends with a clear "limit"
error, the host's memory stays flat) and the wall-clock limit holds whatever runs as native Python inside one
statement (comprehensions, generator expressions, lambdas, class bodies)."""
from __future__ import annotations

import time

import psutil
import pytest

from coc_ros.core.types import LimitExceeded, Limits
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
    except Exception as exc:  # noqa: BLE001 - the outcome under test
        outcome = exc
    return outcome, time.monotonic() - start, events


def test_flood_of_long_variables_ends_with_a_limit_and_bounded_host_memory():
    assert 15_000 < len(FLOOD) < 20_000
    host = psutil.Process()
    rss_before = host.memory_info().rss
    outcome, seconds, events = _run(FLOOD, timeout_s=60.0)
    growth_mb = (host.memory_info().rss - rss_before) / 2**20
    assert isinstance(outcome, LimitExceeded), outcome
    assert "trace limit exceeded" in str(outcome) or "statement budget" in str(outcome), outcome
    assert seconds < 60.0
    assert growth_mb < 200, f"host memory grew by {growth_mb:.0f} MB"
    assert sum(len(str(e)) for e in events) < 2 * MAX_RUN_BYTES
    assert all(len(e["state_delta"]) <= MAX_DELTA_ENTRIES + 1 for e in events)
    assert any("more changed variables not shown" in e["state_delta"].get("...", "") for e in events)


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
