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
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from coc_ros.launcher import DomainLease, NodeLauncher, ros_env
from coc_ros.ros.goal_client import NO_GOAL_RESPONSE, GoalClient, GoalFailed

RSS_GROWTH_LIMIT_MB = 50.0
FD_GROWTH_LIMIT = 5

PROGRAMS = [("answer = 6 * 7", [], "42"), ("answer = is_fruit('apple')", ["True"], "True")]
# the scripted LLM holds exactly each goal's replies: no re-prompting techniques may ask for more
SERVER_PARAMS = {"record": False, "service_wait_s": 20.0, "max_seconds": 60.0, "lm_timeout_s": 20.0,
                 "techniques": json.dumps({"repair": False, "intent_check": False})}


def script_replies(total: int) -> list[str]:
    replies: list[str] = []
    for i in range(total):
        program, lm, _ = PROGRAMS[i % 2]
        replies += [f"```python\n{program}\n```", *lm]
    return replies


def _measure(pid: int) -> dict[str, Any]:
    p = psutil.Process(pid)
    return {"fds": p.num_fds(), "rss_mb": p.memory_info().rss / 2**20,
            "children": len(p.children(recursive=True)), "threads": p.num_threads()}


def run_soak(n: int = 200, warmup: int = 4, print_table: bool = True, goal_timeout_s: float = 30.0
             ) -> dict[str, Any]:
    """Run the soak; return the measurements (see module docstring)."""
    with tempfile.TemporaryDirectory(prefix="coc_soak_") as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "script.json"
        script.write_text(json.dumps(script_replies(n + warmup)))
        lease = DomainLease("soak")
        nodes = NodeLauncher(ros_env(lease.domain, tmp / "ros_log"), log_dir=tmp)
        client = None
        try:
            nodes.start("skill_server", params={"backend": "fake", "fake_motion_s": 0.0})
            nodes.start("lmulator", params={"llm": f"scripted:{script}"})
            server = nodes.start("coc_server", params=SERVER_PARAMS)
            client = _client(nodes)
            failures: list[str] = []
            for i in range(warmup):
                ok, err = _goal(client, f"warmup {i}", PROGRAMS[i % 2][2], goal_timeout_s)
                if not ok and not (err == NO_GOAL_RESPONSE and _server_succeeded(nodes, f"warmup {i}")):
                    raise RuntimeError(f"warmup goal {i} failed: {err}\n{nodes.log_tail('coc_server')}")
            before = _measure(server.pid)
            t0 = time.monotonic()
            successes = 0
            for i in range(warmup, warmup + n):
                ok, err = _goal(client, f"soak goal {i}", PROGRAMS[i % 2][2], goal_timeout_s)
                successes += ok
                if not ok and len(failures) < 5:
                    failures.append(f"goal {i}: {err}")
            seconds = time.monotonic() - t0
            after = _measure(server.pid)
        finally:
            if client is not None:
                client.close()
            codes = nodes.close()
            lease.release()
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


def _client(nodes: NodeLauncher) -> GoalClient:
    """The CLI's action client (coc_ros.ros.goal_client.GoalClient) on the soak's private DDS domain."""
    os.environ.update(nodes.env)  # rclpy reads the domain and discovery range at init
    client = GoalClient("soak_client")
    if not client.wait_for_server(60.0):
        client.close()
        raise RuntimeError("coc_server did not come up within 60 s")
    return client


# Seen once under load (CI beside a benchmark): the first goal's response was dropped by the DDS layer ("failed to
# send response (timeout): client will not receive response") because the server had not yet discovered the new
# client's response reader. The server ran the goal. Warm-up goals exist to absorb such discovery effects, so a
# warm-up goal whose response was lost counts as done when the server's log shows that run succeeded (the scripted
# replies stay aligned: the server consumed exactly that goal's). Measured goals get no such allowance.


def _server_succeeded(nodes: NodeLauncher, instruction: str) -> bool:
    """Whether coc_server's log shows the run of `instruction` finished with success=True."""
    log = nodes.log_tail("coc_server", chars=200_000)
    match = re.search(rf"run (\S+): {re.escape(repr(instruction))} ", log)
    return bool(match) and re.search(rf"run {re.escape(match.group(1))} done in [0-9.]+ s: success=True",
                                     log) is not None


def _goal(client: GoalClient, instruction: str, expected: str, timeout: float) -> tuple[bool, str]:
    """One goal; ok when it succeeded with the expected answer."""
    try:
        _status, res = client.run_goal(instruction, timeout=timeout)
    except GoalFailed as exc:
        return False, str(exc)
    if not res.success or res.answer != expected:
        return False, f"success={res.success} answer={res.answer!r} error={res.error!r}"
    return True, ""
