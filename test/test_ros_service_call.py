"""The service-call layer under coc_server and the CLI (coc_ros.ros.service_call): a request the server never
took is detected from its heartbeat and sent again; a server restarted during a call gets the call again; a call
lost on every one of its 3 sends is a clear error; the lmulator answers a repeated request without asking its LLM
again.

The lost request is staged in-process: a Simulate server whose first callback hangs without being counted in
its heartbeat, exactly what a caller sees when DDS dropped the request. The rest uses real lmulator processes.

Run: .venv/bin/python -m pytest -q test/test_ros_service_call.py
"""
from __future__ import annotations

import json
import signal
import threading
import time
from types import SimpleNamespace

import pytest

from ros_harness import spinning_node, wait_until

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def ros(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp("service_call")
    with spinning_node(tmp, request, "service_call_test", threads=4) as (procs, node, context, executor):
        yield SimpleNamespace(procs=procs, node=node, context=context, executor=executor, tmp=tmp)


def _caller(node, name: str, heartbeat_topic: str, **options):
    from coc_ros.ros.heartbeat import HeartbeatMonitor
    from coc_ros.ros.service_call import ServiceCaller
    from coc_ros.srv import Simulate

    return ServiceCaller(node, Simulate, name, what="test server", heartbeat=HeartbeatMonitor(node, heartbeat_topic),
                         wait_s=20.0, timeout_s=30.0, **options)


def _fake_server(node, name: str, heartbeat_topic: str, lose: int):
    """A Simulate server that loses its first `lose` requests: the callback hangs, uncounted, as if DDS had
    never delivered them; later requests are answered (and counted)."""
    from rclpy.callback_groups import ReentrantCallbackGroup

    from coc_ros.ros.heartbeat import HeartbeatPublisher
    from coc_ros.srv import Simulate

    beat = HeartbeatPublisher(node, heartbeat_topic)
    seen = []
    release = threading.Event()

    def serve(req, resp):
        seen.append(req.expression)
        if len(seen) <= lose:
            release.wait(30)
            return resp
        with beat.serving():
            resp.success, resp.value = True, f"answer {len(seen)}"
            return resp

    node.create_service(Simulate, name, serve, callback_group=ReentrantCallbackGroup())
    return seen, release


def test_a_lost_request_is_sent_once_more(ros):
    from coc_ros.srv import Simulate

    seen, release = _fake_server(ros.node, "/test/lost_once", "/test/lost_once/heartbeat", lose=1)
    try:
        caller = _caller(ros.node, "/test/lost_once", "/test/lost_once/heartbeat")
        t0 = time.monotonic()
        resp = caller.call(Simulate.Request(expression="f(1)"))
        assert resp.success and resp.value == "answer 2"
        assert seen == ["f(1)", "f(1)"]
        assert time.monotonic() - t0 < 10  # detected in seconds, not at the 30 s timeout
    finally:
        release.set()


def test_a_request_lost_on_every_send_is_a_clear_error(ros):
    from coc_ros.ros.service_call import ServiceUnavailable
    from coc_ros.srv import Simulate

    seen, release = _fake_server(ros.node, "/test/lost_twice", "/test/lost_twice/heartbeat", lose=3)
    try:
        caller = _caller(ros.node, "/test/lost_twice", "/test/lost_twice/heartbeat")
        with pytest.raises(ServiceUnavailable, match="lost the call to /test/lost_twice 3 times.*never reached it"):
            caller.call(Simulate.Request(expression="f(1)"))
        assert len(seen) == 3
    finally:
        release.set()


def test_a_request_taken_by_a_server_that_is_not_repeat_safe_is_not_sent_again(ros):
    """A server that took the request (its count moved) and went idle without answering: a motion must not run
    twice, so the caller reports it instead of resending."""
    from rclpy.callback_groups import ReentrantCallbackGroup

    from coc_ros.ros.heartbeat import HeartbeatPublisher
    from coc_ros.ros.service_call import ServiceUnavailable
    from coc_ros.srv import Simulate

    beat = HeartbeatPublisher(ros.node, "/test/taken/heartbeat")
    seen, release = [], threading.Event()

    def serve(req, resp):
        seen.append(req.expression)
        with beat.serving():
            pass  # counted and finished, but the response never goes out
        release.wait(30)
        return resp

    ros.node.create_service(Simulate, "/test/taken", serve, callback_group=ReentrantCallbackGroup())
    try:
        caller = _caller(ros.node, "/test/taken", "/test/taken/heartbeat", repeat_safe=False)
        with pytest.raises(ServiceUnavailable, match="the response was lost; not sent again"):
            caller.call(Simulate.Request(expression="move()"))
        assert seen == ["move()"]
    finally:
        release.set()


def test_lmulator_answers_a_repeated_request_from_its_replay_cache(ros):
    from coc_ros.srv import Simulate

    script = ros.tmp / "replay.json"
    script.write_text(json.dumps(["True", "False"]))
    ros.procs.start("lmulator", {"llm": f"scripted:{script}"})
    try:
        caller = _caller(ros.node, "/coc/lmulator/simulate", "/coc/lmulator/heartbeat")
        first = caller.call(Simulate.Request(kind="call", expression="is_fruit('apple')", run_id="r1"))
        again = caller.call(Simulate.Request(kind="call", expression="is_fruit('apple')", run_id="r1"))
        other = caller.call(Simulate.Request(kind="call", expression="is_fruit('rock')", run_id="r1"))
        assert (first.value, again.value, other.value) == ("True", "True", "False")  # 2 replies, 3 answers
        wait_until(lambda: "repeated request" in ros.procs.log("lmulator"), 10, "the replay log line")
    finally:
        ros.procs.stop("lmulator")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["killed", "stopped"])
def test_a_call_in_flight_when_the_lmulator_restarts_goes_to_the_new_instance(ros, sig):
    """Killed: its endpoints may stay in the graph (lease) or vanish (shared memory notices the dead process; seen
    on the CI machine); stopped: they leave the graph at once. Either way the call waits for the new instance."""
    from coc_ros.srv import Simulate

    script = ros.tmp / "restart.json"
    script.write_text(json.dumps(["'old'"]))
    ros.procs.start("lmulator", {"llm": f"scripted:{script}", "reply_delay_s": 30.0})
    caller = _caller(ros.node, "/coc/lmulator/simulate", "/coc/lmulator/heartbeat", dead_after_s=20.0,
                     repeat_safe=True)
    caller.heartbeat.wait_live(3.0, 20.0)
    first = caller.heartbeat.latest.instance
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("resp", caller.call(
        Simulate.Request(kind="call", expression="which()", run_id="r2"))))
    worker.start()
    wait_until(lambda: (caller.heartbeat.latest.busy if caller.heartbeat.latest else 0) > 0, 20, "the call running")
    ros.procs.stop("lmulator", sig)
    script.write_text(json.dumps(["'new'"]))
    ros.procs.start("lmulator", {"llm": f"scripted:{script}"})
    worker.join(60)
    try:
        assert box["resp"].success and box["resp"].value == "'new'"
        assert caller.heartbeat.latest.instance != first
    finally:
        ros.procs.stop("lmulator")
