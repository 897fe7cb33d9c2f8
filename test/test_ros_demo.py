"""End-to-end: `coc-ros demo` brings up every node with the MuJoCo arm, runs one scripted Chain of Code program
(detect_objects() -> undefined should_throw_away(obj) simulated by the LMulator -> pick_place(obj, "black bin")),
records the run and shuts down. 'black bin' is the scene's trash_bin by its colour, which the skill server reports
with its places.

Run: .venv/bin/python -m pytest -q test/test_ros_demo.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ros_harness import REPO, program_reply, trace_from_bag

pytestmark = pytest.mark.timeout(240)

PROGRAM = """
objs = detect_objects()
for obj in objs:
    if should_throw_away(obj):
        pick_place(obj, "black bin")
answer = "done"
"""


DEFAULT_SCENE_OBJECTS = [o["name"] for o in yaml.safe_load((REPO / "config" / "scenes" / "blocks.yaml").read_text())
                         ["objects"]]


def test_demo_puts_the_red_cube_in_the_trash_bin(tmp_path):
    """The acceptance command as a user types it: the default scene (blocks) and camera perception."""
    target, names = "red_cube", DEFAULT_SCENE_OBJECTS
    replies = [program_reply(PROGRAM)] + ["True" if n == target else "False" for n in names]
    script = tmp_path / "script.json"
    script.write_text(json.dumps(replies))
    out = tmp_path / "demo"
    env = dict(os.environ, ROS_LOG_DIR=str(tmp_path / "ros_log"), MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    proc = subprocess.run([sys.executable, "-m", "coc_ros.cli", "demo", "put the red cube in the trash bin",
                           "--llm", f"scripted:{script}", "--json", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=220)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, proc.stderr[-3000:]
    summary = json.loads(lines[-1])
    nodes_log = "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted((out / "logs").glob("*.log")))
    assert proc.returncode == 0 and summary["success"], (summary, proc.stderr[-3000:], nodes_log)
    assert set(summary) >= {"success", "answer", "bag", "world", "images", "error"}
    assert summary["answer"] == "done" and summary["error"] == ""
    assert summary["world"][target] == "trash_bin", summary["world"]
    assert all(v != "trash_bin" for k, v in summary["world"].items() if k != target)
    for image in summary["images"].values():
        assert Path(image).stat().st_size > 1000
    trace = trace_from_bag(summary["bag"])
    assert trace[0]["kind"] == "run_start" and trace[-1]["kind"] == "run_end"
    lm_lines = [e for e in trace if e["kind"] == "line" and e["executor"] == "lm"]
    assert len(lm_lines) == len(names) and all("should_throw_away" in e["source"] for e in lm_lines)
    assert any(e["executor"] == "robot" and "pick_place" in e["source"] for e in trace)
    fixes = [e["detail"] for e in trace if e["kind"] == "grounding"]
    assert fixes == [{"skill": "pick_place", "given": "black bin", "grounded": "trash_bin", "by": "colour"}], fixes
    # the live trace (stderr with --json) and bag-show both show every LMulator call with its value
    for name in names:
        line = f"LMulator: should_throw_away('{name}') -> {'True' if name == target else 'False'}"
        assert line in proc.stderr, proc.stderr[-3000:]
    shown = subprocess.run([sys.executable, "-m", "coc_ros.cli", "bag-show", summary["bag"]], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert all(f"LMulator: should_throw_away('{name}')" in shown.stdout for name in names), shown.stdout
    assert "robot: pick_place('red_cube', 'black bin') -> " in shown.stdout, shown.stdout  # as the program wrote it
    # every node shut down cleanly (the demo reports any other exit code in its summary)
    assert "node_exit_codes" not in summary, summary["node_exit_codes"]


def test_demo_scene_accepts_a_path_and_refuses_an_unknown_scene(tmp_path, monkeypatch):
    from coc_ros.commands.ros import _scene_arg

    monkeypatch.chdir(REPO)
    assert _scene_arg("config/scenes/sort.yaml") == str(REPO / "config" / "scenes" / "sort.yaml")
    assert _scene_arg("blocks") == "blocks"
    proc = subprocess.run([sys.executable, "-m", "coc_ros.cli", "demo", "anything", "--scene", "atlantis",
                           "--out", str(tmp_path / "demo")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown scene 'atlantis'" in proc.stdout + proc.stderr
    assert not (tmp_path / "demo").exists()  # refused before any node started
