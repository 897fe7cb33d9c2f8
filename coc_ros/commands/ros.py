"""`coc-ros send-goal | demo | bag-show | bringup`: the ROS side of the CLI.

- send-goal: an ActionClient for /coc/execute (coc_ros.ros.goal_client) printing the goal's live trace;
  Ctrl-C cancels the goal.
- demo: brings every node up on a private ROS_DOMAIN_ID (loopback discovery), renders the scene, sends one goal,
  prints the live trace, renders again, shuts everything down. With --json the last stdout line is a JSON object
  with keys success, answer, bag, world, images, error (plus run_id, program, status).
- bag-show: prints the trace recorded in a bag (rosbags only; no ROS needed); --json for machines.
- bringup: all nodes as processes from one params YAML (coc_ros.launcher).
Traces print through coc_ros.trace_view, the renderer `coc-ros ask` uses.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from coc_ros.trace_view import TraceView


def register(app: typer.Typer) -> None:
    app.command("send-goal", help="Send an instruction to a running coc_server and follow it.")(send_goal)
    app.command("demo", help="Bring up all nodes with the simulated arm, run one instruction, record it, stop.")(demo)
    app.command("bag-show", help="Print the Chain of Code trace recorded in a bag (no ROS needed).")(bag_show)
    app.command("bringup", help="Start all coc_ros nodes as processes from one params YAML.")(bringup)


# ------------------------------------------------------------------------------------------------- helpers
def feedback_event(fb: Any) -> dict[str, Any]:
    """An action feedback message as a (thinner) trace event: the live view when the trace topic is not matched."""
    delta = dict(part.partition("=")[::2] for part in fb.state_summary.split("; ") if part)
    return {"kind": "line", "executor": fb.executor, "line": fb.line, "source": fb.source, "state_delta": delta,
            "detail": {}}


def _follow(client: Any, view: TraceView) -> dict[str, Any]:
    """run_goal callbacks that print the goal as it runs: its trace events, else its feedback."""
    if client.trace_connected():
        return {"on_event": view.show}
    return {"on_feedback": lambda fb: view.show(feedback_event(fb))}


def _result_dict(status: int, result: Any) -> dict[str, Any]:
    from coc_ros.ros.goal_client import STATUS

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
    mode: str = typer.Option("", help="coc-interweave (server default when empty) | coc-python | coc-lm | cot | "
                                      "direct"),
    as_json: bool = typer.Option(False, "--json", help="Last stdout line: the result as JSON."),
    timeout: float = typer.Option(600.0, help="Seconds to wait for the result (then the goal is canceled)."),
    server_timeout: float = typer.Option(20.0, help="Seconds to wait for the action server to appear."),
    max_seconds: float = typer.Option(0.0, "--max-seconds", min=0.0,
                                      help="The goal's own wall-clock limit in seconds (0: the server's "
                                           "max_seconds, 300 by default)."),
) -> None:
    from coc_ros.ros.goal_client import GoalClient, GoalFailed

    console = Console(stderr=as_json)
    interrupted = _sigint_event()
    client = GoalClient("coc_send_goal")
    try:
        if not client.wait_for_server(server_timeout):
            console.print(f"[red]no coc_server: action /coc/execute not found within {server_timeout:g} s "
                          "(is `coc-ros bringup` running on this ROS_DOMAIN_ID?)[/red]")
            raise typer.Exit(2)
        status, result = client.run_goal(instruction, mode=mode, max_seconds=max_seconds, timeout=timeout,
                                         interrupted=interrupted,
                                         **_follow(client, TraceView(console, summary=False)))
    except GoalFailed as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    finally:
        client.close()
    d = _result_dict(status, result)
    _print_result(console, d)
    if as_json:
        print(json.dumps(d), flush=True)
    raise typer.Exit(0 if d["success"] else 1)


# ------------------------------------------------------------------------------------------------- demo
def _scene_arg(scene: str) -> str:
    """A built-in scene name as is, a path to a scene YAML made absolute (the nodes may run elsewhere);
    either is loaded once here so a bad one fails before any node starts."""
    from coc_ros.sim.scene import load_scene

    path = Path(scene).expanduser()
    value = str(path.resolve()) if path.suffix in (".yaml", ".yml") or os.sep in scene else scene
    load_scene(value)
    return value


def demo(
    instruction: str = typer.Argument(..., help="e.g. 'put the red cube in the trash bin'"),
    llm: str = typer.Option("local", help="local | openai | scripted:PATH"),
    scene: str = typer.Option("blocks", help="a built-in scene (blocks | sort | kitchen) or a path to a scene YAML"),
    seed: int = typer.Option(0, help="scene randomisation seed"),
    perception: str = typer.Option("camera", help="camera | ground_truth"),
    mode: str = typer.Option("", help="engine mode (server default when empty)"),
    as_json: bool = typer.Option(False, "--json", help="Last stdout line: JSON with success, answer, bag, world, "
                                                       "images, error."),
    out: Path | None = typer.Option(None, help="Output directory (bags, images, logs); default ./coc_demo_<time>"),
    params: Path | None = typer.Option(None, help="Base params YAML (default config/coc_ros.yaml)."),
    timeout: float = typer.Option(600.0, help="Seconds to wait for the goal's result."),
    startup_timeout: float = typer.Option(120.0, help="Seconds to wait for the nodes to come up."),
    max_seconds: float = typer.Option(0.0, "--max-seconds", min=0.0,
                                      help="The goal's own wall-clock limit in seconds (0: the server's "
                                           "max_seconds, 300 by default)."),
) -> None:
    import yaml

    from coc_ros.config import load_yaml
    from coc_ros.launcher import NODES, DomainLease, NodeLauncher, default_params, ros_env
    from coc_ros.ros.goal_client import GoalClient, GoalFailed
    from coc_ros.sim.scene import SceneError

    console = Console(stderr=as_json)
    try:
        scene = _scene_arg(scene)
    except SceneError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    out = (out or Path(f"coc_demo_{time.strftime('%Y%m%d-%H%M%S')}")).resolve()
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    cfg = load_yaml(params or default_params())

    def section(node: str) -> dict[str, Any]:
        return cfg.setdefault(node, {}).setdefault("ros__parameters", {})

    section("lmulator")["llm"] = llm
    section("skill_server").update(backend="sim", scene=scene, seed=seed, perception=perception)
    section("recorder")["bag_dir"] = str(out / "bags")
    section("coc_server")["bag_dir"] = str(out / "bags")
    params_file = out / "params.yaml"
    params_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    lease = None if os.environ.get("COC_ROS_DOMAIN_ID") else DomainLease("demo")
    domain = int(os.environ["COC_ROS_DOMAIN_ID"]) if lease is None else lease.domain
    os.environ.update(ros_env(domain, out / "ros_log"))
    console.print(f"[dim]ROS_DOMAIN_ID={domain}, params {params_file}, node logs in {logs}[/dim]")
    interrupted = _sigint_event()
    launcher = NodeLauncher(dict(os.environ), log_dir=logs)
    client = None
    summary: dict[str, Any] = {"success": False, "answer": None, "bag": "", "world": {}, "images": {}, "error": ""}
    try:
        for name in NODES:
            launcher.start(name, params_file=params_file)
        client = GoalClient("coc_demo")
        deadline = time.monotonic() + startup_timeout
        while not client.wait_for_server(0.5):
            dead = launcher.exited()
            if dead is not None:
                raise GoalFailed(f"node {dead[0]} did not start (exit code {dead[1]}):\n{launcher.log_tail(dead[0])}")
            if time.monotonic() > deadline or interrupted.is_set():
                raise GoalFailed(f"coc_server did not come up within {startup_timeout:g} s; see {logs}")
        before = str(out / "before.png")
        client.get_world(before, timeout=max(10.0, deadline - time.monotonic()))
        summary["images"]["before"] = before
        console.print(f"[bold]goal:[/bold] {escape(instruction)}")
        status, result = client.run_goal(instruction, mode=mode, max_seconds=max_seconds, timeout=timeout,
                                         interrupted=interrupted,
                                         **_follow(client, TraceView(console, summary=False)))
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
        codes = launcher.close()
        if lease is not None:
            lease.release()
    bad = {name: code for name, code in codes.items() if code not in (0, -signal.SIGINT)}
    if bad:
        console.print(f"[red]nodes that did not shut down cleanly: {bad}; see {logs}[/red]")
        summary["node_exit_codes"] = bad
    if as_json:
        print(json.dumps(summary, default=str), flush=True)
    raise typer.Exit(0 if summary["success"] else 1)


# ------------------------------------------------------------------------------------------------- bag-show
def bag_show(
    path: Path = typer.Argument(..., help="A bag directory written by the recorder."),
    as_json: bool = typer.Option(False, "--json", help="Print {events, topics} as JSON."),
) -> None:
    from coc_ros.ros.bag import read_trace

    if not path.exists():
        Console(stderr=True).print(f"[red]no such bag: {escape(str(path))}[/red]")
        raise typer.Exit(2)
    try:
        events, counts = read_trace(path)
    except Exception as exc:  # whatever rosbags raises for a broken bag is the message
        Console(stderr=True).print(f"[red]cannot read bag {escape(str(path))}: {type(exc).__name__}: "
                                   f"{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps({"events": events, "topics": counts}, default=str))
        return
    console = Console()
    view = TraceView(console)
    for event in events:
        view.show(event)
    console.print("[dim]" + escape(", ".join(f"{t}: {n}" for t, n in sorted(counts.items()))) + "[/dim]")


# ------------------------------------------------------------------------------------------------- bringup
def bringup(
    params: Path | None = typer.Option(None, help="params YAML (default config/coc_ros.yaml)"),
    nodes: str = typer.Option("", help="comma-separated nodes (default: the file's bringup.nodes)"),
) -> None:
    from coc_ros import launcher

    argv = (["--params", str(params)] if params else []) + (["--nodes", nodes] if nodes else [])
    launcher.main(argv)
