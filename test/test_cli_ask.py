"""`coc-ros ask` as a user runs it (a real subprocess), with a scripted LM."""
from __future__ import annotations

import json
import subprocess
import sys

FRUIT_PROGRAM = ("```python\nitems = ['apple', 'chair', 'banana', 'car']\ncount = 0\nfor x in items:\n"
                 "    if is_fruit(x):\n        count += 1\nanswer = count\n```")


def coc_ros(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coc_ros.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_ask_json_counts_fruits_with_four_lm_events(script_file):
    path = script_file([FRUIT_PROGRAM, "True", "False", "True", "False"])
    proc = coc_ros("ask", "How many fruits?", "--llm", f"scripted:{path}", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["answer"] == 2
    assert out["mode"] == "coc-interweave"
    assert "is_fruit(x)" in out["program"]
    assert all("executor" in e for e in out["trace"])
    assert sum(e["executor"] == "lm" for e in out["trace"]) == 4
    assert out["lm_calls"] == 5  # one generation + four simulations


def test_ask_readable_output_marks_python_and_lm_lines(script_file):
    path = script_file([FRUIT_PROGRAM, "True", "False", "True", "False"])
    proc = coc_ros("ask", "How many fruits?", "--llm", f"scripted:{path}")
    assert proc.returncode == 0, proc.stderr
    assert "LMulator: is_fruit('banana') -> True" in proc.stdout
    assert "answer: 2" in proc.stdout


def test_ask_reports_program_errors_with_nonzero_exit(script_file):
    path = script_file(["```python\nanswer = 1 / 0\n```"])
    proc = coc_ros("ask", "Divide", "--llm", f"scripted:{path}", "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["success"] is False and "ZeroDivisionError" in out["error"]


def test_ask_bad_arguments(script_file, tmp_path):
    assert coc_ros("ask", "q", "--mode", "nope").returncode == 2
    proc = coc_ros("ask", "q", "--llm", f"scripted:{tmp_path / 'missing.json'}")
    assert proc.returncode == 2 and "not found" in proc.stdout + proc.stderr
    assert coc_ros("ask", "q", "--llm", "martian").returncode == 2
