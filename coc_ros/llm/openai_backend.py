"""Any OpenAI-compatible chat endpoint (hosted, vLLM, Ollama, llama.cpp's server) through the `openai` client."""
from __future__ import annotations

import os
import time

from coc_ros.llm.base import Completion, LLMError, Message, ScoresUnavailable

TOP_LOGPROBS = 20  # the most OpenAI's API returns per token


class OpenAILLM:
    name = "openai"

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None, model: str | None = None,
                 timeout: float = 120.0):
        import openai

        self._openai = openai
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or ("none" if base_url else None)
        if not api_key:
            raise LLMError("openai backend: set OPENAI_API_KEY (or a base_url for a local server)")
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=1)
        self.model = model or os.environ.get("COC_ROS_OPENAI_MODEL") or self._first_model()
        self._logprobs_missing = ""  # why this server gives no logprobs, once known

    def _first_model(self) -> str:
        try:
            models = self._client.models.list().data
        except self._openai.OpenAIError as exc:
            raise LLMError(f"openai backend: cannot list models ({exc}); set the model explicitly") from None
        if not models:
            raise LLMError("openai backend: the server lists no models; set the model explicitly")
        return models[0].id

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        started = time.monotonic()
        try:
            resp = self._client.chat.completions.create(model=self.model, messages=messages, max_tokens=max_tokens,
                                                        temperature=0, stop=stop or None)
        except self._openai.OpenAIError as exc:
            raise LLMError(f"openai backend: {exc}") from None
        usage = resp.usage
        return Completion(text=resp.choices[0].message.content or "",
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0,
                          seconds=time.monotonic() - started)

    def score_options(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        """Log-probabilities of each option's first token from the server's top_logprobs (one generated token).
        A server that returns none (llama.cpp's without logits_all, some hosted models) raises ScoresUnavailable,
        once per backend, and later calls go straight to free text."""
        if self._logprobs_missing:
            raise ScoresUnavailable(self._logprobs_missing)
        try:
            resp = self._client.chat.completions.create(model=self.model, messages=messages, max_tokens=1,
                                                        temperature=0, logprobs=True, top_logprobs=TOP_LOGPROBS)
            top = resp.choices[0].logprobs.content[0].top_logprobs
        except self._openai.OpenAIError as exc:
            if isinstance(exc, self._openai.APIConnectionError):
                raise LLMError(f"openai backend: {exc}") from None
            self._logprobs_missing = f"the server refused logprobs ({exc})"
            raise ScoresUnavailable(self._logprobs_missing) from None
        except (AttributeError, IndexError, TypeError):
            self._logprobs_missing = "the server returned no logprobs"
            raise ScoresUnavailable(self._logprobs_missing) from None
        floor = min((t.logprob for t in top), default=-30.0) - 1.0  # an option not in the top list: below all
        scores = {}
        for option in options:
            matches = [t.logprob for t in top if t.token.strip() and option.startswith(t.token.strip())]
            scores[option] = max(matches, default=floor)
        return scores
