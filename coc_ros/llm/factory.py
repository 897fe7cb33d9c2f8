"""`make_llm("local" | "openai" | "scripted:PATH", options)`: the one place backend names are understood."""
from __future__ import annotations

from typing import Any

from coc_ros.llm.base import LLMClient, LLMError

_LOCAL_OPTIONS = {"model_path", "n_ctx", "n_threads", "cache_prompt", "seed", "slots"}
_OPENAI_OPTIONS = {"base_url", "api_key", "model", "timeout"}


def make_llm(spec: str, options: dict[str, Any] | None = None) -> LLMClient:
    """Build a backend. Options irrelevant to the chosen backend are ignored; empty values mean defaults."""
    opts = {k: v for k, v in (options or {}).items() if v not in (None, "")}
    spec = (spec or "local").strip()
    if spec == "local":
        from coc_ros.llm.local import LocalLLM

        return LocalLLM(**{k: v for k, v in opts.items() if k in _LOCAL_OPTIONS})
    if spec == "openai":
        from coc_ros.llm.openai_backend import OpenAILLM

        return OpenAILLM(**{k: v for k, v in opts.items() if k in _OPENAI_OPTIONS})
    if spec.startswith("scripted:"):
        from coc_ros.llm.scripted import ScriptedLLM

        return ScriptedLLM.from_file(spec.split(":", 1)[1])
    raise LLMError(f"unknown LLM backend {spec!r}: use local, openai or scripted:PATH")
