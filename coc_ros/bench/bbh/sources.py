"""Fetching the BBH raw material from PyPI into the cache: BIG-bench's source tasks and lm-eval's BBH prompts.

BBH's own 250-item test subsets live on a dataset hub this project cannot reach. PyPI carries what is needed to
rebuild the benchmark closely:

* ``bigbench==1.0.0`` (358 MB source archive, fetched with ``pip download --no-deps``; never installed, its
  install fails). pip >= 26 refuses to download it at all (its metadata has a ``file://`` URL dependency), so
  the download runs pip 24.0, itself pip-installed from PyPI into a throw-away ``--target`` folder.
  ``bigbench/benchmark_tasks/<task>/`` holds the source tasks BBH was curated from: ``task.json`` files and,
  for boolean_expressions, multistep_arithmetic and web_of_lies, ``task.py`` generators. Only the task folders
  BBH draws on are extracted and the archive is then deleted.
* ``lm-eval==0.4.13`` (9 MB wheel): ``lm_eval/tasks/bbh/cot_fewshot/*.yaml`` hold BBH's official 3-shot
  chain-of-thought prompts and ``lm_eval/tasks/bbh/fewshot/*.yaml`` the same exemplars with bare answers.

Everything is cached under ``coc_ros.config.cache_dir() / "bench"`` (first call: about 40 s and 370 MB of
download; afterwards :func:`fetch_sources` returns at once, offline).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from coc_ros import config

BIGBENCH_VERSION = "1.0.0"
LM_EVAL_VERSION = "0.4.13"
_LEGACY_PIP = "pip==24.0"
_LAYOUT_VERSION = 1  # bump when the extracted layout changes, forces a re-fetch

# BIG-bench source folders that BBH's 23 tasks come from (all extracted; a few hundred KB in total).
_BIGBENCH_DIRS = (
    "boolean_expressions", "causal_judgment", "date_understanding", "disambiguation_qa", "dyck_languages",
    "formal_fallacies_syllogisms_negation", "geometric_shapes", "hyperbaton", "logical_deduction",
    "movie_recommendation", "multistep_arithmetic", "navigate", "object_counting", "penguins_in_a_table",
    "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection", "snarks",
    "sports_understanding", "temporal_sequences", "tracking_shuffled_objects", "web_of_lies", "word_sorting",
)

# Called after a (re-)fetch so modules that cache parsed sources drop them (see on_refetch).
_on_refetch: list[Callable[[], None]] = []


def on_refetch(callback: Callable[[], None]) -> Callable[[], None]:
    """Register ``callback`` (e.g. an lru_cache's cache_clear) to run after new sources replace the cache."""
    _on_refetch.append(callback)
    return callback


def _bench_dir(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else config.cache_dir() / "bench"


def _marker_text() -> str:
    return json.dumps({"bigbench": BIGBENCH_VERSION, "lm_eval": LM_EVAL_VERSION, "layout": _LAYOUT_VERSION,
                       "dirs": list(_BIGBENCH_DIRS)})


def _run_pip(args: list[str], timeout: float, pip_path: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pip_path is not None:
        env["PYTHONPATH"] = str(pip_path) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "pip", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"`{' '.join(cmd)}` did not finish in {timeout:.0f} s; is PyPI reachable?") from None


def _pip_error(what: str, proc: subprocess.CompletedProcess, cache: Path) -> RuntimeError:
    tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
    return RuntimeError(
        f"could not {what} from the package index (pip exited {proc.returncode}). The BBH benchmark data is "
        f"built from PyPI packages, so the first run needs PyPI access; later runs use the cache in {cache} "
        f"(COC_ROS_CACHE may point at a cache filled elsewhere).\ncommand: {' '.join(map(str, proc.args))}\n"
        f"pip said:\n{tail}"
    )


def _legacy_pip(dest: Path, timeout: float, cache: Path) -> Path:
    """pip >= 26 refuses to even download bigbench 1.0.0's sdist (its metadata declares a ``file://`` URL
    dependency on bleurt, rejected for PyPI-hosted files even with --no-deps); pip 24.0, installed into a
    throw-away --target folder and put first on PYTHONPATH, downloads it fine."""
    proc = _run_pip(["install", "--disable-pip-version-check", "--no-deps", "--quiet", "--target", str(dest),
                     _LEGACY_PIP], timeout)
    if proc.returncode != 0:
        raise _pip_error(f"install {_LEGACY_PIP} (needed to download bigbench)", proc, cache)
    return dest


def _pip_download(spec: str, dest: Path, timeout: float, cache: Path, pip_path: Path | None = None) -> Path:
    proc = _run_pip(["download", "--no-deps", "--disable-pip-version-check", "-d", str(dest), spec], timeout,
                    pip_path)
    if proc.returncode != 0:
        raise _pip_error(f"download {spec}", proc, cache)
    name = spec.split("==")[0].replace("-", "_").lower()
    found = [p for p in dest.iterdir() if p.name.replace("-", "_").lower().startswith(name)]
    if not found:
        raise RuntimeError(f"pip reported success for {spec} but left no file in {dest}")
    return found[0]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fetch_sources(cache_dir: str | Path | None = None, *, timeout: float = 1800.0, verbose: bool = False) -> Path:
    """Make sure the BIG-bench task sources and lm-eval's BBH prompts are cached; return the cache folder.

    Layout of the returned folder: ``bigbench/<task>/...`` (task.json / task.py of the BIG-bench tasks BBH
    uses) and ``lm_eval_bbh/{cot_fewshot,fewshot}/*.yaml``. Idempotent and safe to call from parallel processes.
    Raises RuntimeError with pip's message if the package index cannot be reached.
    """
    root = _bench_dir(cache_dir)
    marker = root / ".complete"
    if marker.is_file() and marker.read_text() == _marker_text():
        return root
    with _locked(root.parent / f".{root.name}.lock"):
        if marker.is_file() and marker.read_text() == _marker_text():
            return root
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=".fetch-") as tmp_s:
            tmp = Path(tmp_s)
            dl = tmp / "dl"
            dl.mkdir()
            t0 = time.monotonic()
            wheel = _pip_download(f"lm-eval=={LM_EVAL_VERSION}", dl, timeout, root)
            lm_out = tmp / "lm_eval_bbh"
            with zipfile.ZipFile(wheel) as zf:
                prefix = "lm_eval/tasks/bbh/"
                for info in zf.infolist():
                    sub = info.filename[len(prefix):] if info.filename.startswith(prefix) else None
                    if not sub or info.is_dir() or sub.split("/")[0] not in ("cot_fewshot", "fewshot"):
                        continue
                    out = lm_out / sub
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(zf.read(info))
            wheel.unlink()
            if verbose:
                print(f"lm-eval {LM_EVAL_VERSION}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
            t0 = time.monotonic()
            pip_path = _legacy_pip(tmp / "pip", timeout, root)
            sdist = _pip_download(f"bigbench=={BIGBENCH_VERSION}", dl, timeout, root, pip_path)
            if verbose:
                print(f"bigbench {BIGBENCH_VERSION}: {sdist.stat().st_size / 1e6:.0f} MB in "
                      f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
            bb_out = tmp / "bigbench"
            wanted = tuple(f"bigbench/benchmark_tasks/{d}/" for d in _BIGBENCH_DIRS)
            with tarfile.open(sdist, "r:gz") as tf:
                for member in tf:
                    if not member.isfile():
                        continue
                    parts = member.name.split("/", 1)
                    if len(parts) < 2 or not parts[1].startswith(wanted):
                        continue
                    rel = parts[1][len("bigbench/benchmark_tasks/"):]
                    if ".." in rel.split("/") or not rel.endswith((".json", ".py", ".md", ".txt")):
                        continue
                    src = tf.extractfile(member)
                    if src is None:
                        continue
                    out = bb_out / rel
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(src.read())
            sdist.unlink()
            missing = [d for d in _BIGBENCH_DIRS if not (bb_out / d).is_dir()]
            if missing or not (lm_out / "cot_fewshot").is_dir():
                raise RuntimeError(f"downloaded archives lack expected folders: {missing or 'lm_eval bbh yaml'}")
            for name, new in (("bigbench", bb_out), ("lm_eval_bbh", lm_out)):
                old = root / name
                if old.exists():
                    shutil.rmtree(old)
                new.rename(old)
        marker.write_text(_marker_text())
        for hook in _on_refetch:
            hook()
    return root

