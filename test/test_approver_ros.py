"""The motion approver's heartbeat against the real nodes (fake skill backend, scripted LLM): an operator who takes
longer than coc_server's `dead_after_s` to decide is still waited for, and an approver that dies mid-question
rejects the motion within seconds, not after the whole `approve_timeout_s`.

`coc-ros approve` runs interactively here, its stdin a pipe the test answers through.
"""
from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from ros_harness import NodeProcs, SERVER_PARAMS, connect, program_reply, wait_until

pytestmark = pytest.mark.timeout(240)
SUCCEEDED, ABORTED = 4, 6
APPROVE_TIMEOUT_S = 60.0  # far beyond dead_after_s (3 s): a rejection within seconds came from the heartbeat


@pytest.fixture(scope="module")
def ros(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp("approver_ros")
    procs = NodeProcs(tmp, request)
    procs.start("skill_server", {"backend": "fake", "fake_motion_s": 0.05})
    procs.start("coc_server", {"record": False, **SERVER_PARAMS, "max_seconds": 120.0,
                               "safety": json.dumps({"require_confirmation": True}),
                               "approve_timeout_s": APPROVE_TIMEOUT_S})
    client = connect(procs)

    from std_msgs.msg import String

    from coc_ros.ros import names

    class Ros:
        beats: list[dict] = []
        approver: subprocess.Popen | None = None

    r = Ros()
    r.procs, r.client, r.tmp = procs, client, tmp
    def on_beat(msg: String) -> None:  # the client's one executor thread appends; tests only read
        r.beats.append({**json.loads(msg.data), "seen": time.monotonic()})

    client.node.create_subscription(String, names.APPROVER_HEARTBEAT, on_beat, 10)

    def lmulator(replies):
        procs.scripted_lmulator(client, replies)

    def start_approver():
        r.approver, r.approver_log = procs.start_approver(interactive=True)
        wait_until(lambda: "motion approver: instance" in procs.log("coc_server"), 30,
                   "coc_server to see the approver's heartbeat")

    def stop_approver():
        if r.approver is not None and r.approver.poll() is None:
            r.approver.kill()
            r.approver.wait(10)
        r.approver = None

    r.lmulator, r.start_approver, r.stop_approver = lmulator, start_approver, stop_approver
    yield r
    stop_approver()
    client.close()
    codes = procs.close()
    assert all(c == 0 for c in codes.values()), codes


def _busy_since(beats: list[dict], since: float) -> float:
    """Seconds over which the approver's beats after `since` said it was busy with a question."""
    busy = [b["seen"] for b in beats if b["seen"] > since and b["busy"]]
    return busy[-1] - busy[0] if len(busy) > 1 else 0.0


def test_an_operator_slower_than_dead_after_s_is_waited_for(ros):
    ros.start_approver()
    ros.lmulator([program_reply("r = pick_place('red_cube', 'box')\nanswer = r")])
    asked = time.monotonic()
    run = ros.client.send("put the red cube in the box")
    wait_until(lambda: "approve? [y/n]" in ros.approver_log.read_text(), 30, "the question on the terminal")
    # the operator thinks for longer than coc_server's dead_after_s (3 s) while the approver keeps beating
    wait_until(lambda: _busy_since(ros.beats, asked) >= 4.0, 30, "4 s of busy heartbeats")
    assert not run.done.is_set(), run.result
    ros.approver.stdin.write(b"y\n")
    ros.approver.stdin.flush()
    result = run.wait(30)
    assert run.status == SUCCEEDED, (result.error, ros.procs.log("coc_server"))
    assert ros.client.get_world()["red_cube"] == "box"
    ros.stop_approver()


def test_an_approver_killed_mid_question_rejects_the_motion_within_seconds(ros):
    ros.start_approver()
    ros.lmulator([program_reply("r = pick_place('green_cube', 'bowl')\nanswer = r")])
    run = ros.client.send("put the green cube in the bowl")
    wait_until(lambda: "approve? [y/n]" in ros.approver_log.read_text(), 30, "the question on the terminal")
    ros.approver.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    result = run.wait(30)
    assert run.status == ABORTED and not result.success
    assert "was not approved" in result.error and "no heartbeat" in result.error, result.error
    assert time.monotonic() - killed < APPROVE_TIMEOUT_S / 2, "rejected by the timeout, not by the heartbeat"
    assert ros.client.get_world()["green_cube"] == "table"  # the motion never ran
    ros.stop_approver()
