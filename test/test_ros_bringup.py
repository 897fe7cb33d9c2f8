"""bringup: a node that cannot start makes bringup stop the others and exit non-zero; SIGINT stops all cleanly.

Run: .venv/bin/python -m pytest -q test/test_ros_bringup.py
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import yaml

from ros_harness import REPO, RosClient, pick_domain_id, ros_env

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


def test_bringup_exits_nonzero_when_a_node_dies(tmp_path):
    env = ros_env(pick_domain_id(), tmp_path / "log")
    proc = subprocess.run([sys.executable, "-m", "coc_ros.nodes.bringup", "--params", str(_params(tmp_path, "moveit"))],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "moveit_py" in proc.stderr and "node skill_server exited with code 1" in proc.stderr


def test_bringup_forwards_sigint(tmp_path):
    domain = pick_domain_id()
    env = ros_env(domain, tmp_path / "log")
    proc = subprocess.Popen([sys.executable, "-m", "coc_ros.nodes.bringup", "--params", str(_params(tmp_path, "fake"))],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = RosClient(domain, tmp_path / "log")
    try:
        client.wait_for_server()
    finally:
        client.close()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
