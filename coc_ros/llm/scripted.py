"""A backend that replays given strings in order: for unit tests and for reproducing a run exactly.

Given `scores` (question text -> option -> log-prob), it also answers scored decisions deterministically, keyed
by the last user message, so tests of log-odds decisions and calibration need no model. The LMulator's
object-description requests (system prompt DESCRIBE_SYSTEM) are answered from `facts` (the request's last message
-> text, '' when absent) and never take a reply from the list, so a script lists only programs and free-text
answers."""
from __future__ import annotations

import ast
import json
import threading
from pathlib import Path

from coc_ros.llm.base import DESCRIBE_SYSTEM, Completion, LLMError, Message, Sampler, ScoresUnavailable


class ScriptedLLM:
    """Returns the next string of a list for each call; running out is an LLMError, not a silent default."""

    name = "scripted"

    def __init__(self, replies: list[str], scores: dict[str, dict[str, float]] | None = None,
                 facts: dict[str, str] | None = None, samples: list[str] | None = None):
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise LLMError("a scripted LLM needs a JSON list of strings")
        if scores is not None and not (isinstance(scores, dict) and all(
                isinstance(v, dict) and all(isinstance(x, (int, float)) for x in v.values()) for v in scores.values())):
            raise LLMError("scripted scores must map question text to {option: number}")
        self._replies = list(replies)
        self._scores = scores
        self._facts = dict(facts or {})
        self._samples = list(samples) if samples is not None else None
        self._lock = threading.Lock()
        self.calls: list[list[Message]] = []

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedLLM:
        """A JSON list of replies, or {"replies": [...], "scores": {question: {option: log-prob}},
        "facts": {description request: description}, "samples": [sampled replies]}."""
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise LLMError(f"scripted replies file not found: {p}") from None
        except json.JSONDecodeError as exc:
            raise LLMError(f"scripted replies file {p} is not JSON: {exc}") from None
        if isinstance(data, dict):
            return cls(data.get("replies", []), data.get("scores"), data.get("facts"), data.get("samples"))
        return cls(data)

    def offers(self, capability: type) -> bool:
        """Sampling only when the script lists samples; scored and constrained decisions only when it provides
        scores (else everything is free text)."""
        return self._samples is not None if capability is Sampler else self._scores is not None

    def score_options(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        question = messages[-1]["content"] if messages else ""
        with self._lock:
            self.calls.append(messages)
            table = (self._scores or {}).get(question)
        if table is None:
            raise LLMError(f"scripted LLM has no scores for {question!r}")
        missing = [o for o in options if o not in table]
        if missing:
            raise LLMError(f"scripted scores for {question!r} lack option(s) {missing}")
        return {o: float(table[o]) for o in options}

    def reply_logprob(self, messages: list[Message], reply: str) -> float:
        """The script's score for `reply` under the last message (`scores[last message][reply]`)."""
        return self.score_options(messages, [reply])[reply]

    def sample(self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.7,
               seed: int = 1) -> Completion:
        """The next of `samples` (kept apart from the replies, so a script without them never loses a reply to a
        draw); without samples this backend does not sample."""
        with self._lock:
            if self._samples is None:
                raise ScoresUnavailable("this script lists no sampled replies")
            self.calls.append(messages)
            if not self._samples:
                raise LLMError("scripted LLM ran out of sampled replies")
            text = self._samples.pop(0)
        return Completion(text=text, completion_tokens=len(text) // 4)

    def complete_choice(self, messages: list[Message], choices: list[str], *, many: bool = False,
                        max_tokens: int = 128) -> Completion:
        """The next reply, which must be what the grammar admits (repr of a choice, or a list of them)."""
        completion = self.complete(messages, max_tokens=max_tokens)
        try:
            value = ast.literal_eval(completion.text)
        except (ValueError, SyntaxError):
            value = None
        items = value if many and isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v in choices for v in items):
            raise LLMError(f"scripted reply {completion.text!r} is not admitted by the grammar of {choices}")
        return completion

    def complete(self, messages: list[Message], *, max_tokens: int = 512, stop: list[str] | None = None) -> Completion:
        if messages and messages[0]["content"] == DESCRIBE_SYSTEM:
            asked = messages[-1]["content"]
            text = self._facts.get(asked, self._facts.get(asked.splitlines()[-1], ""))  # with or without the scene
            with self._lock:
                self.calls.append(messages)
            return Completion(text=text, prompt_tokens=len(asked) // 4, completion_tokens=len(text) // 4)
        with self._lock:
            self.calls.append(messages)
            if not self._replies:
                raise LLMError(f"scripted LLM ran out of replies after {len(self.calls) - 1} call(s)")
            text = self._replies.pop(0)
        return Completion(text=text, prompt_tokens=sum(len(m["content"]) // 4 for m in messages),
                          completion_tokens=len(text) // 4)

    @property
    def remaining(self) -> int:
        return len(self._replies)
