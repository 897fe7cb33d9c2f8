"""Where installed artefacts live and how YAML config is loaded. One place, so every entry point agrees."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_CONFIG_DIR = PACKAGE_DIR.parent / "config"


def cache_dir() -> Path:
    """install.sh's cache (built wheel, joined model, robot assets); override with COC_ROS_CACHE."""
    return Path(os.environ.get("COC_ROS_CACHE", Path.home() / ".cache" / "coc_ros"))


def default_model_path() -> Path:
    """The offline Qwen2.5-Coder-1.5B GGUF joined by install.sh; override with COC_ROS_MODEL."""
    env = os.environ.get("COC_ROS_MODEL")
    return Path(env) if env else cache_dir() / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def panda_assets_dir() -> Path:
    """Franka Panda MJCF + meshes unpacked from the gym-hil wheel by install.sh."""
    return cache_dir() / "assets" / "gym_hil-0.1.14"


def config_dir() -> Path:
    """config/ of the source tree, or share/coc_ros/config of a colcon install."""
    if REPO_CONFIG_DIR.is_dir():
        return REPO_CONFIG_DIR
    prefix = os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)
    for p in prefix:
        cand = Path(p) / "share" / "coc_ros" / "config"
        if cand.is_dir():
            return cand
    raise FileNotFoundError("coc_ros config directory not found")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Load a YAML mapping with an error that names the file."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {p}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"config file {p} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {p} must hold a mapping, got {type(data).__name__}")
    return data
