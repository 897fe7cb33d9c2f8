"""`coc-ros send-goal | demo | bag-show | bringup`: the ROS side of the CLI.

- send-goal: an rclpy ActionClient for /coc/execute with live feedback; Ctrl-C cancels the goal.
- demo: brings every node up on a fresh ROS_DOMAIN_ID (loopback discovery), renders the scene, sends one goal,
  prints the trace, renders again, shuts everything down. With --json the last stdout line is a JSON object
  with keys success, answer, bag, world, images, error (plus run_id, program, status).
- bag-show: prints the trace recorded in a bag (rosbags only; no ROS needed).
- bringup: all nodes as processes from one params YAML (coc_ros.nodes.bringup).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

STATUS = {0: "unknown", 1: "accepted", 2: "executing", 3: "canceling", 4: "succeeded", 5: "canceled", 6: "aborted"}
COLORS = {"python": "cyan", "lm": "magenta", "robot": "yellow", "system": "dim", "generator": "blue"}


def register(app: typer.Typer) -> None:
    app.command("send-goal", help="Send an instruction to a running coc_server and follow it.")(send_goal)
    app.command("demo", help="Bring up all nodes with the simulated arm, run one instruction, record it, stop.")(demo)
    app.command("bag-show", help="Print the Chain of Code trace recorded in a bag (no ROS needed).")(bag_show)
    app.command("bringup", help="Start all coc_ros nodes as processes from one params YAML.")(bringup)


# ------------------------------------------------------------------------------------------------- helpers
def _feedback_printer(console: Console):
    def show(fb: Any) -> None:
        color = COLORS.get(fb.executor, "white")
        state = f"  [dim]-> {escape(fb.state_summary)}[/dim]" if fb.state_summary else ""
        src = fb.source.strip().splitlines()[0] if fb.source.strip() else ""
        console.print(f"[{color}]{fb.step:>4} {fb.executor:<6}[/{color}] L{fb.line:<3} {escape(src)}{state}",
                      highlight=False)
    return show


def _result_dict(status: int, result: Any) -> dict[str, Any]:
    try:
        world = json.loads(result.world_json) if result.world_json else {}
    except json.JSONDecodeError:
        world = {}
    return {"success": bool(result.success), "status": STATUS.get(status, str(status)), "answer": result.answer,
            "error": result.error, "bag": result.bag_path, "run_id": result.run_id, "world": world,
            "program": result.program, "lm_calls": result.lm_calls, "steps": result.steps}


def _print_result(console: Console, d: dict[str, Any]) -> None:
    if d["success"]:
        console.print(f"[green]answer:[/green] {escape(str(d['answer']))}")
    else:
        console.print(f"[red]{d['status']}:[/red] {escape(d['error'])}")
    if d.get("bag"):
        console.print(f"bag: {d['bag']}")


def _sigint_event() -> threading.Event:
    """Ctrl-C sets the event (the goal gets canceled) instead of raising inside rclpy's threads."""
    ev = threading.Event()

    def handler(_signum: int, _frame: object) -> None:
        if ev.is_set():
            raise KeyboardInterrupt
        ev.set()

    signal.signal(signal.SIGINT, handler)
    return ev


# ------------------------------------------------------------------------------------------------- send-goal
def send_goal(
    instruction: str = typer.Argument(..., help="What the robot should do / the question to answer."),
    mode: str = typer.Option("", help="coc-interweave (server default when empty) | coc-python | coc-lm | cot | direct"),
    as_json: bool = typer.Option(False, "--json", help="Last stdout line: the result as JSON."),
    timeout: float = typer.Option(600.0, help="Seconds to wait for the result (then the goal is canceled)."),
    server_timeout: float = typer.Option(20.0, help="Seconds to wait for the action server to appear."),
) -> None:
    from coc_ros.nodes.client import CocClient, GoalFailed

    console = Console(stderr=as_json)
    interrupted = _sigint_event()
    client = CocClient("coc_send_goal")
    try:
        if not client.wait_for_server(server_timeout):
            console.print(f"[red]no coc_server: action /coc/execute not found within {server_timeout:g} s "
                          "(is `coc-ros bringup` running on this ROS_DOMAIN_ID?)[/red]")
            raise typer.Exit(2)
        status, result = client.run_goal(instruction, mode=mode, timeout=timeout,
                                         on_feedback=_feedback_printer(console), interrupted=interrupted)
    except GoalFailed as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        client.close()
    d = _result_dict(status, result)
    _print_result(console, d)
    if as_json:
        print(json.dumps(d), flush=True)
    raise typer.Exit(0 if d["success"] else 1)


# ------------------------------------------------------------------------------------------------- demo
def demo(
    instruction: str = typer.Argument(..., help="e.g. 'put the red cube in the trash bin'"),
    llm: str = typer.Option("local", help="local | openai | scripted:PATH"),
    scene: str = typer.Option("blocks", help="config/scenes/<scene>.yaml: blocks | sort | kitchen"),
    seed: int = typer.Option(0, help="scene randomisation seed"),
    perception: str = typer.Option("camera", help="camera | ground_truth"),
    mode: str = typer.Option("", help="engine mode (server default when empty)"),
    as_json: bool = typer.Option(False, "--json", help="Last stdout line: JSON with success, answer, bag, world, images, error."),
    out: Optional[Path] = typer.Option(None, help="Output directory (bags, images, logs); default ./coc_demo_<time>"),
    params: Optional[Path] = typer.Option(None, help="Base params YAML (default config/coc_ros.yaml)."),
    timeout: float = typer.Option(600.0, help="Seconds to wait for the goal's result."),
    startup_timeout: float = typer.Option(120.0, help="Seconds to wait for the nodes to come up."),
) -> None:
    import yaml

    from coc_ros.config import load_yaml
    from coc_ros.nodes.bringup import default_params
    from coc_ros.nodes.client import CocClient, GoalFailed

    console = Console(stderr=as_json)
    out = (out or Path(f"coc_demo_{time.strftime('%Y%m%d-%H%M%S')}")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_yaml(params or default_params())
    def section(node: str) -> dict[str, Any]:
        return cfg.setdefault(node, {}).setdefault("ros__parameters", {})
    section("lmulator")["llm"] = llm
    section("skill_server").update(backend="sim", scene=scene, seed=seed, perception=perception)
    section("recorder")["bag_dir"] = str(out / "bags")
    section("coc_server")["bag_dir"] = str(out / "bags")
    params_file = out / "params.yaml"
    params_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    domain = int(os.environ.get("COC_ROS_DOMAIN_ID") or random.Random(time.time_ns() ^ os.getpid()).randrange(1, 101))
    os.environ.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
                      ROS_LOG_DIR=str(out / "ros_log"))
    console.print(f"[dim]ROS_DOMAIN_ID={domain}, params {params_file}, node logs {out / 'nodes.log'}[/dim]")
    interrupted = _sigint_event()
    log = open(out / "nodes.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "coc_ros.nodes.bringup", "--params", str(params_file)],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    client = None
    summary: dict[str, Any] = {"success": False, "answer": None, "bag": "", "world": {}, "images": {}, "error": ""}
    try:
        client = CocClient("coc_demo")
        deadline = time.monotonic() + startup_timeout
        while not client.wait_for_server(0.5):
            if proc.poll() is not None:
                raise GoalFailed(f"the nodes did not start (bringup exited {proc.returncode}); "
                                 f"see {out / 'nodes.log'}:\n{(out / 'nodes.log').read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline or interrupted.is_set():
                raise GoalFailed(f"coc_server did not come up within {startup_timeout:g} s; see {out / 'nodes.log'}")
        before = str(out / "before.png")
        client.get_world(before, timeout=max(10.0, deadline - time.monotonic()))
        summary["images"]["before"] = before
        console.print(f"[bold]goal:[/bold] {escape(instruction)}")
        status, result = client.run_goal(instruction, mode=mode, timeout=timeout,
                                         on_feedback=_feedback_printer(console), interrupted=interrupted)
        d = _result_dict(status, result)
        after = str(out / "after.png")
        summary["world"] = client.get_world(after) or d["world"]
        summary["images"]["after"] = after
        summary.update({k: d[k] for k in ("success", "answer", "bag", "error", "run_id", "program", "status")})
        _print_result(console, d)
        console.print(f"world: {summary['world']}")
        console.print(f"images: {before}, {after}")
    except GoalFailed as exc:
        summary["error"] = str(exc)
        console.print(f"[red]{escape(str(exc))}[/red]")
    finally:
        if client is not None:
            client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
    if as_json:
        print(json.dumps(summary, default=str), flush=True)
    raise typer.Exit(0 if summary["success"] else 1)


# ------------------------------------------------------------------------------------------------- bag-show
def read_trace(path: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The /coc/trace events of a bag (as dicts) and the message count of every topic."""
    from rosbags.highlevel import AnyReader

    from coc_ros.nodes.common import trace_msg_to_dict

    events: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    with AnyReader([Path(path)]) as reader:
        for conn, _ts, raw in reader.messages():
            counts[conn.topic] = counts.get(conn.topic, 0) + 1
            if conn.topic == "/coc/trace":
                events.append(trace_msg_to_dict(reader.deserialize(raw, conn.msgtype)))
    return events, counts


def bag_show(
    path: Path = typer.Argument(..., help="A bag directory written by the recorder."),
    as_json: bool = typer.Option(False, "--json", help="Print {events, topics} as JSON."),
) -> None:
    if not path.exists():
        Console(stderr=True).print(f"[red]no such bag: {path}[/red]")
        raise typer.Exit(2)
    try:
        events, counts = read_trace(path)
    except Exception as exc:  # noqa: BLE001 - rosbags errors are the message
        Console(stderr=True).print(f"[red]cannot read bag {path}: {type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps({"events": events, "topics": counts}, default=str))
        return
    console = Console()
    for e in events:
        color = COLORS.get(e["executor"], "white")
        src = (e["source"] or "").strip().splitlines()
        text = src[0] if src else ""
        if e["kind"] in ("run_start", "run_end", "error"):
            text = json.dumps(e["detail"], default=str)[:300]
        delta = "; ".join(f"{k}={v}" for k, v in (e["state_delta"] or {}).items())
        delta = f"  [dim]-> {escape(delta[:200])}[/dim]" if delta else ""
        console.print(f"[{color}]{e['step']:>4} {e['kind']:<9} {e['executor']:<6}[/{color}] L{e['line']:<3} "
                      f"{escape(text)}{delta}", highlight=False)
    console.print("[dim]" + ", ".join(f"{t}: {n}" for t, n in sorted(counts.items())) + "[/dim]")


# ------------------------------------------------------------------------------------------------- bringup
def bringup(
    params: Optional[Path] = typer.Option(None, help="params YAML (default config/coc_ros.yaml)"),
    nodes: str = typer.Option("", help="comma-separated nodes (default: the file's bringup.nodes)"),
) -> None:
    from coc_ros.nodes import bringup as b

    argv = (["--params", str(params)] if params else []) + (["--nodes", nodes] if nodes else [])
    b.main(argv)
