"""The recorder node against the case that lost lmulator states: a lmulator that matches the recorder only after
the run ended (it was restarted just before a short goal). run_end says how many states the run produced; the
bag stays open until they are in it, or closes after `state_wait_s` with a warning naming what is missing.

A real recorder process on a private domain; this test process plays coc_server (trace) and the late lmulator
(a transient-local state publisher created after run_end).

Run: .venv/bin/python -m pytest -q test/test_ros_recorder.py
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ros_harness import read_bag, spinning_node, trace_from_bag, wait_until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ros(tmp_path_factory, request):
    from std_msgs.msg import String

    from coc_ros.msg import TraceEvent
    from coc_ros.ros.qos import trace_qos

    tmp = tmp_path_factory.mktemp("recorder")
    with spinning_node(tmp, request, "recorder_test") as (procs, node, _, _):
        closed: list[str] = []
        node.create_subscription(String, "/coc/recorder/closed", lambda m: closed.append(m.data), 10)
        trace = node.create_publisher(TraceEvent, "/coc/trace", trace_qos())
        procs.start("recorder", {"bag_dir": str(tmp / "bags"), "close_grace_s": 0.1, "state_wait_s": 2.0})
        wait_until(lambda: trace.get_subscription_count() > 0 and node.count_publishers("/coc/recorder/closed") > 0,
                   20, "the recorder on /coc/trace")
        yield SimpleNamespace(procs=procs, node=node, trace=trace, closed=closed, tmp=tmp)


def _event(run_id: str, step: int, kind: str, detail: dict | None = None):
    from coc_ros.msg import TraceEvent

    return TraceEvent(run_id=run_id, step=step, kind=kind, executor="system", detail_json=json.dumps(detail or {}),
                      state_delta_json="{}")


def _state(run_id: str, line: int, value: str):
    from coc_ros.msg import SimulatedState

    return SimulatedState(run_id=run_id, line=line, source=f"x = f({line})", kind="call", expression=f"f({line})",
                          value=value, state_json="{}")


def test_states_that_arrive_after_run_end_still_land_in_the_runs_bag(ros):
    from coc_ros.msg import SimulatedState
    from coc_ros.ros.qos import history_qos

    ros.trace.publish(_event("late1", 0, "run_start"))
    wait_until(lambda: "recording run late1" in ros.procs.log("recorder"), 10, "the bag to open")
    ros.trace.publish(_event("late1", 1, "run_end", {"success": True, "lmulator_states": 2}))
    wait_until(lambda: "waiting up to 2 s for 2 more lmulator states" in ros.procs.log("recorder"), 10,
               "the recorder to hold the bag open for the missing states")
    # the restarted lmulator: its publisher only now matches the recorder, which gets its history (another
    # run's state included, which must stay out of this bag)
    late = ros.node.create_publisher(SimulatedState, "/coc/lmulator/state", history_qos())
    for msg in (_state("other", 1, "'x'"), _state("late1", 2, "True"), _state("late1", 3, "False")):
        late.publish(msg)
    path = wait_until(lambda: next((p for p in ros.closed if p.endswith("late1")), None), 10, "the bag to close")
    states = read_bag(path)["/coc/lmulator/state"]
    assert [(s.run_id, s.value) for s in states] == [("late1", "True"), ("late1", "False")]
    assert [e["kind"] for e in trace_from_bag(path)] == ["run_start", "run_end"]
    assert "without" not in ros.procs.log("recorder")
    ros.node.destroy_publisher(late)


def test_a_bag_whose_states_never_come_closes_after_state_wait_s_and_says_so(ros):
    ros.trace.publish(_event("short1", 0, "run_start"))
    ros.trace.publish(_event("short1", 1, "run_end", {"success": True, "lmulator_states": 1}))
    path = wait_until(lambda: next((p for p in ros.closed if p.endswith("short1")), None), 10, "the bag to close")
    assert "/coc/lmulator/state" not in read_bag(path)
    assert "closing bag" in ros.procs.log("recorder") and "without 1 of its 1 lmulator states" in ros.procs.log(
        "recorder")
