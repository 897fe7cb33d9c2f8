"""`coc-ros bench latency`: where the time of a goal goes, through the real nodes (a benchmark that prints numbers,
not a timed test).

Brings up lmulator, skill_server, recorder and coc_server as processes (coc_ros.launcher) on a leased bench
domain, waits until the lmulator beats (its model is loaded when the node starts), then sends the same goal
`goals` times and records, from the moment each goal was sent:

- accepted (the first sign this client saw that the server accepted the goal: its goal response, its status
  listing the goal, or the goal's first feedback), first feedback (the first executed statement),
- program written (the trace's `program` event), first robot motion (the first pick_place/move_to call the
  skill_server reports on /coc/skill_calls, its start = end stamp - duration), result;
- every LM call of the goal from its live trace: program generation and each LMulator call with seconds, tokens
  and, where the backend reports them, the prefill/generation split.

The first goal is cold (first after bringup), the next ones warm. Times are wall-clock on one machine (node
stamps and client times share the clock).
"""
from __future__ import annotations

import dataclasses
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from coc_ros.config import load_yaml
from coc_ros.launcher import NODES, DomainLease, NodeLauncher, default_params, ros_env
from coc_ros.msg import SkillCall
from coc_ros.ros import names
from coc_ros.ros.goal_client import GoalClient, GoalTimes
from coc_ros.ros.heartbeat import HeartbeatMonitor
from coc_ros.ros.qos import history_qos

MOTIONS = ("pick_place", "move_to")
MILESTONES = ("accepted", "first_feedback", "program", "first_motion", "result")
HEADERS = ("accepted", "1st feedback", "program", "1st motion", "result")
SPLIT_KEYS = ("prefill_s", "generation_s", "prompt_tokens", "completion_tokens")
SKILL_CALL_WAIT_S = 5.0  # how long after a goal's result its motions' skill-call messages may still arrive


@dataclasses.dataclass
class Setup:
    """What the benchmark brings up and sends."""

    llm: str = "local"
    llm_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    backend: str = "sim"
    scene: str = "blocks"
    perception: str = "camera"
    instruction: str = "put the red cube in the trash bin"
    goals: int = 2
    startup_timeout_s: float = 180.0
    goal_timeout_s: float = 600.0


def _params(setup: Setup, work: Path) -> Path:
    cfg = load_yaml(default_params())

    def section(node: str) -> dict[str, Any]:
        return cfg.setdefault(node, {}).setdefault("ros__parameters", {})

    section("lmulator").update(llm=setup.llm, llm_options=json.dumps(setup.llm_options))
    section("skill_server").update(backend=setup.backend, scene=setup.scene, perception=setup.perception)
    section("recorder")["bag_dir"] = str(work / "bags")
    section("coc_server")["bag_dir"] = str(work / "bags")
    path = work / "params.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _lm_calls(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Program generation and every LMulator call of a goal's trace, with what the trace says about each."""
    calls = []
    for e in events:
        detail = e.get("detail") or {}
        if e["kind"] == "program":
            calls.append({"call": "program", "seconds": round(float(e.get("duration") or 0.0), 3),
                          **{k: detail[k] for k in SPLIT_KEYS if k in detail}})
        for c in detail.get("lm_calls", []):
            calls.append({"call": str(c.get("expression", "?"))[:60], "seconds": c.get("seconds"),
                          "memo": bool(c.get("memo")), **{k: c[k] for k in SPLIT_KEYS if k in c}})
    return calls


def _goal(client: GoalClient, setup: Setup, motions: list[SkillCall], label: str) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    times = GoalTimes()
    offset = time.time() - time.monotonic()  # monotonic client times -> the wall clock of the node stamps
    sent_wall = time.time()
    motions.clear()
    status, result = client.run_goal(setup.instruction, timeout=setup.goal_timeout_s, on_event=events.append,
                                     times=times)

    def since(mono: float | None) -> float | None:
        return None if mono is None else round(mono + offset - sent_wall, 3)

    made = sum(1 for e in events for c in (e.get("detail") or {}).get("robot_calls", [])
               if c.get("skill") in MOTIONS and "error" not in c)
    deadline = time.monotonic() + SKILL_CALL_WAIT_S
    while sum(m.skill in MOTIONS for m in motions) < made and time.monotonic() < deadline:
        time.sleep(0.02)  # the skill call's message may arrive after the goal's result (another publisher)
    program = next((e for e in events if e["kind"] == "program"), None)
    starts = [m.stamp.sec + m.stamp.nanosec * 1e-9 - m.duration for m in motions if m.skill in MOTIONS]
    starts = [s for s in starts if s >= sent_wall]
    calls = _lm_calls(events)
    lmulator = [float(c["seconds"]) for c in calls if c["call"] != "program" and not c.get("memo")
                and c.get("seconds") is not None]
    return {
        "goal": label, "success": bool(result.success), "answer": result.answer, "error": result.error,
        "status": status,
        "accepted": since(times.accepted), "first_feedback": since(times.first_feedback),
        "program": round(program["stamp"] - sent_wall, 3) if program else None,
        "first_motion": round(min(starts) - sent_wall, 3) if starts else None,
        "result": since(times.result),
        "lm_calls": calls, "lmulator_median_s": round(statistics.median(lmulator), 3) if lmulator else None,
    }


def run_latency(setup: Setup, out: Path | None = None, logs: Path | None = None,
                console: Console | None = None) -> dict[str, Any]:
    """Bring the nodes up, send the goals, print the table; returns the measurements. Node logs, params and bags
    go to `logs` (kept) or a temporary directory."""
    console = console or Console()
    with tempfile.TemporaryDirectory(prefix="coc_latency_") as tmp_name:
        work = Path(tmp_name) if logs is None else logs
        work.mkdir(parents=True, exist_ok=True)
        lease = DomainLease("bench")
        env = ros_env(lease.domain, work / "ros_log")
        os.environ.update(env)  # rclpy reads the domain and discovery range at init
        launcher = NodeLauncher(env, log_dir=work)
        client: GoalClient | None = None
        report: dict[str, Any] = {"setup": dataclasses.asdict(setup), "goals": []}
        try:
            params = _params(setup, work)
            t0 = time.monotonic()
            for name in NODES:
                launcher.start(name, params_file=params)
            client = GoalClient("coc_latency")
            motions: list[SkillCall] = []
            client.node.create_subscription(SkillCall, names.SKILL_CALLS, motions.append, history_qos())
            lm_beat = HeartbeatMonitor(client.node, names.LM_HEARTBEAT)
            deadline = t0 + setup.startup_timeout_s
            # The skill calls' topic is matched too: on a loaded machine its discovery finished after both goals of
            # a short run, and no motion was seen (CI, once).
            while not (client.wait_for_server(1.0) and lm_beat.live(3.0)
                       and client.node.count_publishers(names.SKILL_CALLS) > 0):
                launcher.check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the nodes did not come up within {setup.startup_timeout_s:g} s")
            report["bringup_s"] = round(time.monotonic() - t0, 2)
            for i in range(setup.goals):
                report["goals"].append(_goal(client, setup, motions, "cold" if i == 0 else f"warm {i}"))
        finally:
            if client is not None:
                client.close()
            launcher.close()
            lease.release()
    _print(report, console)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str))
        console.print(f"results: {out}")
    if logs is not None:
        console.print(f"node logs: {logs}")
    return report


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print(report: dict[str, Any], console: Console) -> None:
    setup = report["setup"]
    table = Table(title=f"goal latency, s after sending ({setup['llm']}, {setup['backend']}:{setup['scene']}; "
                        f"bringup {report.get('bringup_s', '?')} s)")
    table.add_column("goal")
    for header in HEADERS:
        table.add_column(header, justify="right")
    table.add_column("LMulator\nmedian", justify="right")
    table.add_column("outcome")
    for g in report["goals"]:
        outcome = "ok" if g["success"] else f"[red]{g['error'][:60]}[/red]"
        table.add_row(g["goal"], *(_fmt(g[m]) for m in MILESTONES), _fmt(g["lmulator_median_s"]), outcome)
    console.print(table)
    for g in report["goals"]:
        calls = Table(title=f"LM calls of the {g['goal']} goal")
        for col in ("call", "s", "prompt\ntokens", "completion\ntokens", "prefill\ns", "generation\ns", "memo"):
            calls.add_column(col, justify="left" if col == "call" else "right")
        for c in g["lm_calls"]:
            calls.add_row(c["call"], _fmt(c.get("seconds")), str(c.get("prompt_tokens", "-")),
                          str(c.get("completion_tokens", "-")), _fmt(c.get("prefill_s")), _fmt(c.get("generation_s")),
                          "yes" if c.get("memo") else "")
        console.print(calls)
