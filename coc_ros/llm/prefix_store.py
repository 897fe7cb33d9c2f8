"""KV state of fixed prompt prefixes on disk, so a new process does not re-read the few-shot prefix.

The program writer's and the LMulator's prompts start with long fixed parts (system text + shots). On 2 CPU
cores evaluating them costs 10-20 s, paid again by every new process (a node restart, a benchmark, the CLI).
llama.cpp can export a context's state (its KV cache); this store keeps that state per prefix, keyed by the
model's checksum, the llama.cpp version, the context size and the prefix tokens, so a stale file can never be
loaded into the wrong model. Only the llama.cpp state bytes and the token ids are kept: llama-cpp-python's
own LlamaState also copies the logits of every token (n_tokens x 151,936 floats, ~600 MB per 1,000 tokens).
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np

MAGIC = b"COCKV1\n"


def model_checksum(model_path: Path) -> str:
    """sha256 of the model file, remembered in a sidecar file (hashing 1.1 GB takes seconds)."""
    sidecar = model_path.with_name(model_path.name + ".sha256")
    stat = model_path.stat()
    stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
    try:
        saved_stamp, digest = sidecar.read_text().split()
        if saved_stamp == stamp:
            return digest
    except (OSError, ValueError):
        pass
    h = hashlib.sha256()
    with model_path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    digest = h.hexdigest()
    try:
        sidecar.write_text(f"{stamp} {digest}\n")
    except OSError:
        pass  # a read-only model directory: hash again next time
    return digest


class PrefixStore:
    """Saves and restores a llama.cpp context's state for a token prefix."""

    def __init__(self, directory: Path, model_id: str, min_tokens: int = 64):
        self.directory = directory
        self.model_id = model_id
        self.min_tokens = min_tokens
        self.loads = 0
        self.saves = 0

    def _path(self, llm: Any, tokens: list[int]) -> Path:
        key = hashlib.sha256(f"{self.model_id}|{llama_cpp.__version__}|{llm.n_ctx()}|".encode()
                             + np.asarray(tokens, dtype=np.int32).tobytes()).hexdigest()
        return self.directory / f"{key}.kv"

    def restore(self, llm: Any, tokens: list[int]) -> bool:
        """Put the saved state of exactly `tokens` into the context; False when there is none (or it is bad)."""
        path = self._path(llm, tokens)
        try:
            data = path.read_bytes()
        except OSError:
            return False
        if not data.startswith(MAGIC):
            return False
        n = int.from_bytes(data[len(MAGIC):len(MAGIC) + 4], "little")
        ids_end = len(MAGIC) + 4 + 4 * n
        ids = np.frombuffer(data[len(MAGIC) + 4:ids_end], dtype=np.int32)
        if n != len(tokens) or not np.array_equal(ids, np.asarray(tokens, dtype=np.int32)):
            return False
        blob = data[ids_end:]
        buffer = (ctypes.c_uint8 * len(blob)).from_buffer_copy(blob)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, buffer, len(blob)) != len(blob):
            llm.reset()
            return False
        llm.input_ids[:n] = ids
        llm.n_tokens = n
        self.loads += 1
        return True

    def save(self, llm: Any, tokens: list[int]) -> None:
        """Save the context's state, which must hold exactly `tokens` (written atomically)."""
        size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = llama_cpp.llama_state_get_data(llm._ctx.ctx, buffer, size)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(llm, tokens)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(MAGIC + len(tokens).to_bytes(4, "little") + np.asarray(tokens, dtype=np.int32).tobytes())
                f.write(bytes(buffer)[: int(written)])
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            return
        self.saves += 1

    def warm(self, llm: Any, tokens: list[int]) -> None:
        """Make the context start with `tokens`: already there, restored from disk, or evaluated and saved."""
        if len(tokens) < self.min_tokens:
            return
        n = llm.n_tokens
        if n >= len(tokens) and list(llm.input_ids[: len(tokens)]) == list(tokens):
            return
        if self.restore(llm, tokens):
            return
        llm.reset()
        llm.eval(tokens)
        self.save(llm, tokens)
