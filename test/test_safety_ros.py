"""Confirmation mode end to end and bad inputs against the real nodes (fake skill backend, scripted LLM).

coc_server runs with safety {"require_confirmation": true}: each motion is sent to /coc/approve_motion, served by
`coc-ros approve` (coc_ros/commands/approve.py) as a separate process.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from ros_harness import NodeProcs, SERVER_PARAMS, connect, program_reply, wait_until

pytestmark = pytest.mark.timeout(240)
SUCCEEDED, ABORTED = 4, 6
PICK_PROGRAM = "r = pick_place('red_cube', 'box')\nanswer = r"


@pytest.fixture(scope="module")
def ros(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp("safety_ros")
    procs = NodeProcs(tmp, request)
    procs.start("skill_server", {"backend": "fake", "fake_motion_s": 0.05})
    procs.start("coc_server", {"record": False, **SERVER_PARAMS,
                               "safety": json.dumps({"require_confirmation": True}), "approve_timeout_s": 3.0})
    client = connect(procs)

    class Ros:
        approver: subprocess.Popen | None = None

    r = Ros()
    r.procs, r.client, r.tmp = procs, client, tmp

    def lmulator(replies):
        procs.scripted_lmulator(client, replies)

    def approver(*flags):
        stop_approver()
        r.approver, r.approver_log = procs.start_approver(*flags)
        from coc_ros.srv import ApproveMotion

        client.wait_for_service(ApproveMotion, "/coc/approve_motion")

    def stop_approver():
        if r.approver is not None and r.approver.poll() is None:
            r.approver.send_signal(2)
            r.approver.wait(10)
        r.approver = None

    r.lmulator, r.start_approver, r.stop_approver = lmulator, approver, stop_approver
    yield r
    stop_approver()
    client.close()
    codes = procs.close()
    assert all(c == 0 for c in codes.values()), codes


def call_service(client, srv_type, name, request):
    """Through the product's service-call layer: a request lost under load is detected and sent again."""
    heartbeat = "/coc/lmulator/heartbeat" if name.startswith("/coc/lmulator/") else "/coc/skills/heartbeat"
    return client.call(srv_type, name, request, heartbeat)


def world(client):
    return client.get_world()


# ------------------------------------------------------------------------------------------ confirmation mode
def test_approved_motion_runs(ros):
    ros.start_approver("--auto-approve")
    ros.lmulator([program_reply(PICK_PROGRAM)])
    run = ros.client.send("put the red cube in the box")
    result = run.wait(60)
    assert run.status == SUCCEEDED, (result.error, ros.procs.log("coc_server"))
    assert result.answer == "placed red_cube in box"
    assert world(ros.client)["red_cube"] == "box"
    wait_until(lambda: "approved pick_place" in ros.approver_log.read_text(), 30, "the approver's log line")


def test_rejected_motion_is_a_clear_error_in_the_result(ros):
    ros.start_approver("--auto-reject", "--reason", "operator says no")
    ros.lmulator([program_reply("r = pick_place('green_cube', 'bowl')\nanswer = r")])
    run = ros.client.send("put the green cube in the bowl")
    result = run.wait(60)
    assert run.status == ABORTED and not result.success
    assert "robot error: rejected: the operator rejected pick_place" in result.error, result.error
    assert "operator says no" in result.error
    assert world(ros.client)["green_cube"] == "table"  # the motion never ran


def test_program_can_catch_a_rejection(ros):
    ros.start_approver("--auto-reject")
    ros.lmulator([program_reply("try:\n    pick_place('apple', 'box')\n    answer = 'moved'\n"
                                "except RobotError as e:\n    answer = 'not allowed'")])
    result = ros.client.send("move the apple if allowed").wait(60)
    assert result.success and result.answer == "not allowed", result.error


def test_no_approver_means_rejected_after_the_timeout(ros):
    ros.stop_approver()
    ros.lmulator([program_reply("r = pick_place('blue_cube', 'box')\nanswer = r")])
    run = ros.client.send("put the blue cube in the box")
    result = run.wait(60)
    assert run.status == ABORTED
    assert "no answer from the motion approver" in result.error and "within 3 s" in result.error, result.error
    assert world(ros.client)["blue_cube"] == "table"


# ------------------------------------------------------------------------------------------------ bad inputs
def test_goal_with_bad_mode_is_aborted_with_the_valid_modes(ros):
    ros.lmulator([program_reply("answer = 1")])
    run = ros.client.send("what is one?", mode="warp-speed")
    result = run.wait(30)
    assert run.status == ABORTED and not result.success
    assert "unknown mode 'warp-speed'" in result.error and "coc-interweave" in result.error


def test_pick_place_service_rejects_bad_fields(ros):
    from coc_ros.srv import MoveTo, PickPlace

    name = "/coc/skills/pick_place"
    resp = call_service(ros.client, PickPlace, name, PickPlace.Request(object="red_cube", target="box",
                                                                        velocity_scaling=0.0))
    assert not resp.success and resp.error_code == "invalid_argument" and "(0, 1]" in resp.error
    resp = call_service(ros.client, PickPlace, name, PickPlace.Request(object="red_cube", target="box",
                                                                        velocity_scaling=float("nan")))
    assert not resp.success and resp.error_code == "invalid_argument"
    resp = call_service(ros.client, PickPlace, name, PickPlace.Request(object="unicorn", target="box",
                                                                        velocity_scaling=0.5))
    assert not resp.success and resp.error_code == "unknown_object" and "unicorn" in resp.error
    resp = call_service(ros.client, PickPlace, name, PickPlace.Request(object="apple", target="moon",
                                                                        velocity_scaling=0.5))
    assert not resp.success and resp.error_code == "unknown_target"
    resp = call_service(ros.client, PickPlace, name, PickPlace.Request(object="", target="box",
                                                                        velocity_scaling=0.5))
    assert not resp.success and resp.error_code == "invalid_argument"
    resp = call_service(ros.client, MoveTo, "/coc/skills/move_to", MoveTo.Request(velocity_scaling=1.5))
    assert not resp.success and resp.error_code == "invalid_argument"


def test_simulate_service_rejects_bad_fields(ros):
    from coc_ros.srv import Simulate

    ros.lmulator(["True"])
    name = "/coc/lmulator/simulate"
    resp = call_service(ros.client, Simulate, name, Simulate.Request(kind="call", expression="f(1)",
                                                                      state_json="{not json"))
    assert not resp.success and "JSONDecodeError" in resp.error
    resp = call_service(ros.client, Simulate, name, Simulate.Request(kind="call", expression="f(1)",
                                                                      state_json="[1, 2]"))
    assert not resp.success and resp.error
    resp = call_service(ros.client, Simulate, name, Simulate.Request(kind="call", expression="f(1)"))
    assert resp.success and resp.value == "True"
    resp = call_service(ros.client, Simulate, name, Simulate.Request(kind="call", expression="f(2)"))
    assert not resp.success and "ran out of replies" in resp.error  # the scripted LLM is empty now
