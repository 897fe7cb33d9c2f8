"""Engine settings from YAML (config/engine.yaml) with command-line overrides applied on top."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from coc_ros.config import config_dir, load_yaml
from coc_ros.core.types import Limits
from coc_ros.llm.base import LLMClient
from coc_ros.llm.factory import make_llm


def load_engine_config(path: str | Path | None = None) -> dict[str, Any]:
    data = load_yaml(path or config_dir() / "engine.yaml")
    unknown = set(data) - {"llm", "limits"}
    if unknown:
        raise ValueError(f"{path or 'engine.yaml'}: unknown section(s): {', '.join(sorted(unknown))}")
    return data


def llm_from_config(config: dict[str, Any], backend: str | None = None, overrides: dict[str, Any] | None = None
                    ) -> LLMClient:
    llm_cfg = config.get("llm", {}) or {}
    if not isinstance(llm_cfg, dict):
        raise ValueError(f"engine config: llm must be a mapping, got {type(llm_cfg).__name__}")
    spec = backend or llm_cfg.get("backend", "local")
    kind = "openai" if spec == "openai" else "local"
    options = dict(llm_cfg.get(kind, {}) or {})
    if options.get("n_threads") == 0:
        options.pop("n_threads")
    options.update({k: v for k, v in (overrides or {}).items() if v not in (None, "")})
    return make_llm(spec, options)


def limits_from_config(config: dict[str, Any], **overrides: Any) -> Limits:
    section = config.get("limits", {}) or {}
    if not isinstance(section, dict):
        raise ValueError(f"engine config: limits must be a mapping, got {type(section).__name__}")
    data = dict(section)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return Limits.from_dict(data)
