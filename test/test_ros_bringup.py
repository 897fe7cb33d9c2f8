"""bringup: a node that cannot start makes bringup stop the others and exit non-zero; SIGINT stops all cleanly.
Also: the launcher's domain ranges are disjoint and clear of this machine's ephemeral ports.

Run: .venv/bin/python -m pytest -q test/test_ros_bringup.py
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from coc_ros.launcher import DOMAINS, DomainLease, NodeLauncher, domain_ports, ephemeral_ports, ros_env
from ros_harness import DISCOVERY_S, REPO

pytestmark = pytest.mark.timeout(120)


def _params(tmp_path, skill_backend: str):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["answer = 1"]))
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump({
        "lmulator": {"ros__parameters": {"llm": f"scripted:{script}"}},
        "skill_server": {"ros__parameters": {"backend": skill_backend}},
        "recorder": {"ros__parameters": {"bag_dir": str(tmp_path / "bags")}},
        "coc_server": {"ros__parameters": {"bag_dir": str(tmp_path / "bags")}},
    }))
    return p


@pytest.fixture
def domain():
    lease = DomainLease("test")
    yield lease.domain
    lease.release()


def test_domain_ranges_are_disjoint_and_below_the_ephemeral_ports():
    ids = [d for r in DOMAINS.values() for d in r]
    assert len(ids) == len(set(ids))
    eph_low, _ = ephemeral_ports()
    assert all(domain_ports(d)[1] < eph_low for d in ids), (eph_low, max(ids))


def test_a_leased_domain_is_not_handed_out_twice():
    held = DomainLease("bench")
    try:
        for _ in range(3 * len(DOMAINS["bench"])):  # each lease starts at a random ID of the range
            other = DomainLease("bench")
            other.release()
            assert other.domain != held.domain and other.domain in DOMAINS["bench"]
    finally:
        held.release()


def test_bringup_exits_nonzero_when_a_node_dies(tmp_path, domain):
    env = ros_env(domain, tmp_path / "log")
    proc = subprocess.run([sys.executable, "-m", "coc_ros.launcher", "--params", str(_params(tmp_path, "moveit"))],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "moveit_py" in proc.stderr and "node skill_server exited with code 1" in proc.stderr


def test_bringup_forwards_sigint(tmp_path, domain):
    env = ros_env(domain, tmp_path / "log")
    proc = subprocess.Popen([sys.executable, "-m", "coc_ros.launcher", "--params", str(_params(tmp_path, "fake"))],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.environ.update(env)
    from coc_ros.ros.goal_client import GoalClient

    client = GoalClient("test_bringup")
    try:
        assert client.wait_for_server(DISCOVERY_S), "coc_server did not come up"
    finally:
        client.close()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out


def test_a_node_stuck_in_shutdown_is_killed_after_printing_its_stacks(tmp_path):
    """The launcher asks a node that outlives its grace period for its threads' stacks (SIGUSR1, as
    coc_ros.ros.spin registers it) before SIGKILL, so a hang in CI leaves a trace of where it was."""
    log = tmp_path / "node.log"
    body = ("import faulthandler, signal, sys, time\n"
            "faulthandler.register(signal.SIGUSR1, all_threads=True)\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "print('up', flush=True)\n"
            "time.sleep(60)\n")
    said: list[str] = []
    launcher = NodeLauncher(grace=0.5, say=said.append)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", body], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while "up" not in log.read_text() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert "up" in log.read_text(), "the stand-in node did not start"
    launcher.procs["skill_server"] = proc
    assert launcher.stop("skill_server") == -signal.SIGKILL
    assert "Current thread" in log.read_text() and "line 5 in <module>" in log.read_text()
    assert "stacks follow" in said[0]
