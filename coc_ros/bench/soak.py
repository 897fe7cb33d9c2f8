"""Soak test: many short goals in a row through the real ExecuteInstruction action server.

Starts skill_server (backend fake, instant motions), lmulator (scripted LLM holding every reply) and coc_server
(recording off) as separate processes on a private DDS domain, sends `n` goals one after another (even goals:
a program with no LM call; odd goals: one LMulator call), and measures on the coc_server process: success count,
processes left (children of the server), open file descriptors and RSS before/after (after `warmup` goals, so
one-time imports and caches are in the baseline), and goals/s.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

RSS_GROWTH_LIMIT_MB = 50.0
FD_GROWTH_LIMIT = 5

PROGRAMS = [("answer = 6 * 7", [], "42"), ("answer = is_fruit('apple')", ["True"], "True")]


def script_replies(total: int) -> list[str]:
    replies: list[str] = []
    for i in range(total):
        program, lm, _ = PROGRAMS[i % 2]
        replies += [f"```python\n{program}\n```", *lm]
    return replies


class _Nodes:
    def __init__(self, tmp: Path, domain: int):
        self.tmp = tmp
        self.env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
                        ROS_LOG_DIR=str(tmp / "ros_log"), PYTHONUNBUFFERED="1")
        self.env.pop("ROS_LOCALHOST_ONLY", None)
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, params: dict[str, Any]) -> subprocess.Popen:
        pfile = self.tmp / f"{name}.yaml"
        pfile.write_text(yaml.safe_dump({name: {"ros__parameters": params}}))
        with open(self.tmp / f"{name}.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", f"coc_ros.nodes.{name}", "--ros-args", "--params-file",
                                     str(pfile)], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        p = self.tmp / f"{name}.log"
        return p.read_text(errors="replace")[-3000:] if p.exists() else ""

    def close(self) -> dict[str, int | None]:
        codes = {}
        for name, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(2)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            codes[name] = proc.returncode
        return codes


def _measure(pid: int) -> dict[str, Any]:
    import psutil  # noqa: PLC0415

    p = psutil.Process(pid)
    return {"fds": p.num_fds(), "rss_mb": p.memory_info().rss / 2**20,
            "children": len(p.children(recursive=True)), "threads": p.num_threads()}


def run_soak(n: int = 200, warmup: int = 4, print_table: bool = True, goal_timeout_s: float = 30.0
             ) -> dict[str, Any]:
    """Run the soak; return the measurements (see module docstring)."""
    with tempfile.TemporaryDirectory(prefix="coc_soak_") as tmp_name:
        tmp = Path(tmp_name)
        domain = random.Random(os.getpid() * 31 + time.time_ns()).randrange(102, 230)
        script = tmp / "script.json"
        script.write_text(json.dumps(script_replies(n + warmup)))
        nodes = _Nodes(tmp, domain)
        client = None
        try:
            nodes.start("skill_server", {"backend": "fake", "fake_motion_s": 0.0})
            nodes.start("lmulator", {"llm": f"scripted:{script}"})
            server = nodes.start("coc_server", {"record": False, "service_wait_s": 20.0, "max_seconds": 60.0})
            client = _client(domain, tmp)
            failures: list[str] = []
            for i in range(warmup):
                ok, err = _goal(client, f"warmup {i}", PROGRAMS[i % 2][2], goal_timeout_s)
                if not ok:
                    raise RuntimeError(f"warmup goal {i} failed: {err}\n{nodes.log('coc_server')}")
            before = _measure(server.pid)
            t0 = time.monotonic()
            successes = 0
            for i in range(warmup, warmup + n):
                ok, err = _goal(client, f"soak goal {i}", PROGRAMS[i % 2][2], goal_timeout_s)
                successes += ok
                if not ok and len(failures) < 5:
                    failures.append(f"goal {i}: {err}")
            seconds = time.monotonic() - t0
            time.sleep(0.3)
            after = _measure(server.pid)
        finally:
            if client is not None:
                client.close()
            codes = nodes.close()
    report = {
        "n": n, "successes": successes, "failures": failures, "seconds": round(seconds, 2),
        "goals_per_s": round(n / seconds, 2), "fds_before": before["fds"], "fds_after": after["fds"],
        "rss_before_mb": round(before["rss_mb"], 1), "rss_after_mb": round(after["rss_mb"], 1),
        "rss_growth_mb": round(after["rss_mb"] - before["rss_mb"], 1),
        "children_before": before["children"], "children_after": after["children"],
        "threads_before": before["threads"], "threads_after": after["threads"], "exit_codes": codes,
        "rss_growth_limit_mb": RSS_GROWTH_LIMIT_MB, "fd_growth_limit": FD_GROWTH_LIMIT,
    }
    report["ok"] = (successes == n and after["children"] == 0 and after["fds"] - before["fds"] <= FD_GROWTH_LIMIT
                    and report["rss_growth_mb"] < RSS_GROWTH_LIMIT_MB)
    if print_table:
        _print(report)
    return report


def _print(r: dict[str, Any]) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    t = Table(title=f"soak: {r['n']} goals through /coc/execute ({'OK' if r['ok'] else 'FAILED'})")
    t.add_column("metric")
    t.add_column("before")
    t.add_column("after")
    t.add_column("bound")
    t.add_row("successes", "", f"{r['successes']}/{r['n']}", "all")
    t.add_row("goals/s", "", f"{r['goals_per_s']:.2f}", "")
    t.add_row("server child processes", str(r["children_before"]), str(r["children_after"]), "0 after")
    t.add_row("server open fds", str(r["fds_before"]), str(r["fds_after"]), f"growth <= {r['fd_growth_limit']}")
    t.add_row("server RSS (MB)", f"{r['rss_before_mb']:.1f}", f"{r['rss_after_mb']:.1f}",
              f"growth < {r['rss_growth_limit_mb']:g}")
    t.add_row("server threads", str(r["threads_before"]), str(r["threads_after"]), "")
    Console().print(t)
    for f in r["failures"]:
        Console().print(f"[red]{f}[/red]")


def _client(domain: int, tmp: Path) -> Any:
    """The CLI's action client (coc_ros.nodes.client.CocClient) on the soak's private DDS domain."""
    os.environ.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
                      ROS_LOG_DIR=str(tmp / "ros_log"))
    os.environ.pop("ROS_LOCALHOST_ONLY", None)
    from coc_ros.nodes.client import CocClient  # noqa: PLC0415

    client = CocClient("soak_client")
    if not client.wait_for_server(60.0):
        client.close()
        raise RuntimeError("coc_server did not come up within 60 s")
    return client


def _goal(client: Any, instruction: str, expected: str, timeout: float) -> tuple[bool, str]:
    """One goal; ok when it succeeded with the expected answer."""
    from coc_ros.nodes.client import GoalFailed  # noqa: PLC0415

    try:
        _status, res = client.run_goal(instruction, timeout=timeout)
    except GoalFailed as exc:
        return False, str(exc)
    if not res.success or res.answer != expected:
        return False, f"success={res.success} answer={res.answer!r} error={res.error!r}"
    return True, ""
