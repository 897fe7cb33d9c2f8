"""The LMulator: asks an LLM what code that cannot run would produce, and insists on a Python literal.

Replies are parsed with ast.literal_eval only, never executed: a reply that tries to smuggle in code is just a
malformed reply. One retry shows the model its error; a second failure is a SimulationError.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from typing import Any

from coc_ros.engine.prompts import lmulator_messages
from coc_ros.engine.lmulator_protocol import SimReply, SimRequest
from coc_ros.core.types import SimulationError
from coc_ros.llm.base import LLMClient, LLMError

MAX_TOKENS = {"call": 96, "line": 192, "program": 384}
_FENCE = re.compile(r"^```[a-zA-Z]*\n?|\n?```$")


def parse_literal(reply: str, kind: str) -> Any:
    """Find a Python literal in a reply; raise ValueError with a reason when there is none."""
    text = _FENCE.sub("", reply.strip()).strip().strip("`").strip()
    for prefix in ("Answer:", "Output:", "Result:", "Returns:", "Value:"):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):].strip()
    candidates = [text, text.rstrip(".")]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines:
        candidates += [lines[0].rstrip("."), lines[-1].rstrip(".")]
    if kind != "call" and "{" in text and "}" in text:
        candidates.append(text[text.index("{"): text.rindex("}") + 1])
    for sep in ("->", "=", ":"):
        if kind == "call" and sep in text:
            candidates.append(text.rsplit(sep, 1)[1].strip().rstrip("."))
    last_error = "empty reply"
    for cand in candidates:
        if not cand:
            continue
        if len(cand) > 20_000:
            last_error = "reply too long"
            continue
        try:
            value = ast.literal_eval(cand)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            continue
        if kind in ("line", "program") and not isinstance(value, dict):
            last_error = f"expected a dict of variables, got {type(value).__name__}"
            continue
        if kind == "program" and "answer" not in value:
            last_error = "a dict without the key 'answer' (the program's result)"
            continue
        return value
    raise ValueError(f"not a Python literal ({last_error})")


def content_id(text: str) -> str:
    """A short, stable id for a prompt or reply (sha1 prefix), so traces can point at exact LM exchanges."""
    return hashlib.sha1(text.encode()).hexdigest()[:12]


class LMulator:
    """In-process LMulatorProtocol over any LLMClient."""

    def __init__(self, llm: LLMClient, retries: int = 1):
        self.llm = llm
        self.retries = retries

    def simulate(self, request: SimRequest) -> SimReply:
        messages = lmulator_messages(request.question, request.program, request.line, request.source,
                                     request.kind, request.expression, request.state)
        prompt_tokens = completion_tokens = 0
        raw = ""
        for attempt in range(1, self.retries + 2):
            try:
                completion = self.llm.complete(messages, max_tokens=MAX_TOKENS.get(request.kind, 128))
            except LLMError as exc:
                raise SimulationError(f"LMulator could not reach the LLM: {exc}") from None
            prompt_tokens += completion.prompt_tokens
            completion_tokens += completion.completion_tokens
            raw = completion.text
            try:
                value = parse_literal(raw, request.kind)
            except ValueError as exc:
                messages = messages + [
                    {"role": "assistant", "content": raw},
                    {"role": "user", "content": f"That reply is {exc}. Reply with only the Python literal."},
                ]
                continue
            return SimReply(value=repr(value), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                            raw=raw, attempts=attempt, prompt_id=content_id(json.dumps(messages)),
                            reply_id=content_id(raw))
        target = request.expression if request.kind == "call" else f"line {request.line}"
        raise SimulationError(f"LMulator reply for {target} was malformed after {self.retries + 1} attempts: "
                              f"{raw[:200]!r}")
