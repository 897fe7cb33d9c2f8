"""Bad input to every public interface gives a clear error (a message that names the problem), never a traceback
or a silent default."""
from __future__ import annotations

import subprocess
import sys

import pytest

from coc_ros.engine.settings import limits_from_config, llm_from_config, load_engine_config
from coc_ros.core.types import Limits, Mode
from coc_ros.robot.api import SafetyConfig


@pytest.mark.parametrize("data, message", [
    ({"timeout_s": "abc"}, r"limit timeout_s must be a positive number of seconds, got 'abc'"),
    ({"timeout_s": -1}, r"timeout_s must be a positive number"),
    ({"timeout_s": float("nan")}, r"timeout_s must be a positive number"),
    ({"timeout_s": float("inf")}, r"timeout_s must be a positive number"),
    ({"max_statements": 1.5}, r"max_statements must be a positive integer, got 1.5"),
    ({"max_statements": True}, r"max_statements must be a positive integer, got True"),
    ({"memory_mb": 0}, r"memory_mb must be a positive integer, got 0"),
    ({"max_lm_calls": None}, r"max_lm_calls must be a positive integer, got None"),
    ({"bogus": 1, "other": 2}, r"unknown limit\(s\): bogus, other"),
    ([1, 2], r"limits must be a mapping"),
])
def test_limits_from_dict_bad_values(data, message):
    with pytest.raises(ValueError, match=message):
        Limits.from_dict(data)


def test_limits_from_dict_good_values():
    assert Limits.from_dict(None) == Limits()
    assert Limits.from_dict({"timeout_s": 5, "max_statements": 10}).timeout_s == 5


@pytest.mark.parametrize("data, message", [
    ({"velocity_scaling": 0}, r"velocity scaling must be in \(0, 1\], got 0"),
    ({"velocity_scaling": 1.5}, r"velocity scaling must be in \(0, 1\], got 1.5"),
    ({"velocity_scaling": "fast"}, r"velocity scaling must be a number"),
    ({"max_motions_per_goal": 0}, r"max_motions_per_goal must be an integer >= 1, got 0"),
    ({"max_motions_per_goal": "ten"}, r"max_motions_per_goal must be an integer >= 1, got 'ten'"),
    ({"max_say_chars": -5}, r"max_say_chars must be an integer >= 1"),
    ({"require_confirmation": "yes"}, r"require_confirmation must be true or false, got 'yes'"),
    ({"workspace_min": [0, 0]}, r"workspace_min must be 3 finite numbers"),
    ({"workspace_min": "abc"}, r"workspace_min must be 3 finite numbers"),
    ({"workspace_max": [1, 1, float("nan")]}, r"workspace_max must be 3 finite numbers"),
    ({"workspace_min": [1, 1, 1]}, r"workspace_min must be below workspace_max"),
    ({"speed_limit": 1}, r"unknown safety option\(s\): speed_limit"),
    ("strict", r"safety options must be a mapping"),
])
def test_safety_config_from_dict_bad_values(data, message):
    with pytest.raises(ValueError, match=message):
        SafetyConfig.from_dict(data)


def test_safety_config_good_values():
    cfg = SafetyConfig.from_dict({"workspace_min": [-1, -1, 0], "require_confirmation": True})
    assert cfg.workspace_min == (-1.0, -1.0, 0.0) and cfg.require_confirmation is True


def test_mode_parse_lists_valid_modes():
    with pytest.raises(ValueError, match=r"unknown mode 'warp'; expected one of: direct, cot"):
        Mode.parse("warp")


# -------------------------------------------------------------------------------------------------- engine YAML
@pytest.mark.parametrize("text, message", [
    ("llm: [unclosed", r"(?i)yaml|parse|scan|expected"),
    ("llm: {}\nlimitz: {}\n", r"unknown section\(s\): limitz"),
    ("limits:\n  timeout_s: soon\n", r"timeout_s must be a positive number of seconds, got 'soon'"),
    ("limits:\n  max_statments: 5\n", r"unknown limit\(s\): max_statments"),
    ("limits: [1, 2]\n", r"limits must be a mapping"),
])
def test_engine_yaml_malformed(tmp_path, text, message):
    path = tmp_path / "engine.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        limits_from_config(load_engine_config(path))
    assert __import__("re").search(message, str(info.value)), str(info.value)


def test_engine_yaml_missing_file_and_unknown_backend(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_engine_config(tmp_path / "nope.yaml")
    with pytest.raises(Exception, match=r"(?i)martian|unknown"):
        llm_from_config({}, "martian")


# -------------------------------------------------------------------------------------------------- scene YAML
from coc_ros.sim import scene  # noqa: E402 - grouped with the scene tests


@pytest.mark.parametrize("text, message", [
    ("objects: [unclosed", r"(?i)yaml|expected|parse"),
    ("- just\n- a list\n", r"(?i)mapping|dict|expected|must"),
    ("name: x\nobjects: 3\n", r"(?i)objects|expected|list"),
])
def test_scene_yaml_malformed(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(scene.SceneError, match=message):
        scene.load_scene(path)


def test_scene_unknown_name_lists_available():
    with pytest.raises(scene.SceneError, match=r"unknown scene 'atlantis'; available: "):
        scene.load_scene("atlantis")


# -------------------------------------------------------------------------------------------------- CLI
def coc_ros(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coc_ros.cli", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, message", [
    (["ask", "q", "--mode", "warp"], r"unknown mode 'warp'"),
    (["ask", "q", "--llm", "martian"], r"(?i)martian|unknown"),
    (["ask", "q", "--timeout", "abc"], r"(?i)invalid value|not a valid float"),
    (["ask", "q", "--timeout", "-3"], r"timeout_s must be a positive number"),
    (["ask", "q", "--no-such-flag"], r"(?i)no such option"),
    (["ask"], r"(?i)missing argument"),
])
def test_cli_ask_bad_flags_exit_2_with_message(args, message, tmp_path):
    proc = coc_ros(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert __import__("re").search(message, proc.stdout + proc.stderr), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_cli_ask_bad_config_file(tmp_path):
    bad = tmp_path / "engine.yaml"
    bad.write_text("limits:\n  timeout_s: soon\n")
    proc = coc_ros("ask", "q", "--config", str(bad))
    assert proc.returncode == 2 and "timeout_s must be a positive number" in proc.stdout + proc.stderr


def test_approve_cli_bad_flags():
    proc = subprocess.run([sys.executable, "-m", "coc_ros.commands.approve", "--auto-approve", "--auto-reject"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "mutually exclusive" in proc.stderr
