"""The one interface every LLM backend implements.

Chat messages in, text out. Keeping it this small lets the same engine run on llama.cpp in-process, any
OpenAI-compatible server, a ROS service (the lmulator node) or a scripted list of replies in tests.
"""
from __future__ import annotations

import dataclasses
from typing import Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}
# The system prompt of an object-description request (the LMulator's generated knowledge). Defined here, where
# backends live, because the scripted backend answers these requests from its own table instead of its replies.
DESCRIBE_SYSTEM = "You describe everyday objects briefly and factually."


class LLMError(Exception):
    """The backend could not produce a completion (unreachable server, missing model, exhausted script)."""


class ScoresUnavailable(LLMError):
    """This backend (or server) gives no log-probabilities: the caller decides from free text instead."""


@dataclasses.dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached_tokens: int = 0  # prompt tokens served from the KV cache (local backend), when known
    prefill_s: float = 0.0  # time spent evaluating the prompt (local backend), when known
    generation_s: float = 0.0  # time spent generating the reply (local backend), when known


class LLMClient(Protocol):
    """A chat-completion backend. Greedy decoding (temperature 0) unless the backend is told otherwise."""

    name: str

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        ...


@runtime_checkable
class OptionScorer(Protocol):
    """A backend that can say how likely each option is as the reply, from the model's log-probabilities.

    Free text is a small model's weakest output: a True/False decision read from the log-odds of the two answers
    (on the same KV-cached prompt) can be calibrated, and a choice between options can be scored over all of them.
    """

    def score_options(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        """Log-probability of each option as the start of the assistant's reply (higher = more likely).
        Raise LLMError when scores are unavailable (the caller then falls back to free text)."""
        ...


@runtime_checkable
class ConstrainedDecoder(Protocol):
    """A backend that can decode under a grammar, so a reply can only be one of the names that exist."""

    def complete_choice(self, messages: list[Message], choices: list[str], *, many: bool = False,
                        max_tokens: int = 128) -> Completion:
        """A reply that is exactly repr(choice) of one choice, or a Python list of them when `many`.
        Raise LLMError when the grammar cannot be built or decoding fails."""
        ...


@runtime_checkable
class Sampler(Protocol):
    """A backend that can also sample a reply (temperature > 0, seeded), for drawing alternative programs."""

    def sample(self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.7,
               seed: int = 1) -> Completion:
        """A sampled reply; the same messages, temperature and seed give the same text."""
        ...


@runtime_checkable
class ReplyScorer(Protocol):
    """A backend that can say how likely a whole given reply is: the sum of its tokens' log-probabilities."""

    def reply_logprob(self, messages: list[Message], reply: str) -> float:
        """log p(reply | messages). Raise ScoresUnavailable when this backend cannot score whole replies."""
        ...


def supports(llm: object, capability: type) -> bool:
    """Whether a backend offers an optional capability: it has the methods, and unless it says otherwise through
    `offers(capability)` (a wrapper passes on what it wraps; a script offers what it was given), it works."""
    if not isinstance(llm, capability):
        return False
    offers = getattr(llm, "offers", None)
    return bool(offers(capability)) if callable(offers) else True
