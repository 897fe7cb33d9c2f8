"""`coc-ros approve`: the operator side of confirmation mode.

Serves /coc/approve_motion (coc_ros/srv/ApproveMotion). coc_server, started with safety
{"require_confirmation": true}, calls it before every motion; this command shows the motion and asks y/n on the
terminal (no answer within coc_server's `approve_timeout_s` means rejected). `--auto-approve` / `--auto-reject`
answer without asking (tests, dry runs). Every decision is printed as one line: "approved|rejected SKILL REQUEST".
It beats on /coc/approve_motion/heartbeat (coc_ros.ros.heartbeat) from its own executor thread, also while a
question waits for the operator, so coc_server tells an approver that died or a request lost on the way from an
operator who is still deciding.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    app.command(help="Approve or reject each robot motion (confirmation mode) from this terminal.")(approve)


def _decide_interactive(skill: str, request: dict[str, Any], lock: threading.Lock) -> tuple[bool, str]:
    with lock:  # one question at a time
        print(f"\nmotion request: {skill} {json.dumps(request)}", flush=True)
        while True:
            try:
                answer = input("approve? [y/n] ").strip().lower()
            except EOFError:
                return False, "no operator input (stdin closed)"
            if answer in ("y", "yes"):
                return True, "approved by the operator"
            if answer in ("n", "no"):
                return False, "rejected by the operator"
            print("please answer y or n", flush=True)


def approve(
    auto_approve: bool = typer.Option(False, "--auto-approve", help="approve every motion without asking"),
    auto_reject: bool = typer.Option(False, "--auto-reject", help="reject every motion without asking"),
    reason: str = typer.Option("", help="reason sent with automatic decisions"),
    count: int = typer.Option(0, help="exit after this many decisions (0: run until Ctrl-C)"),
    domain_id: int | None = typer.Option(None, help="ROS_DOMAIN_ID (default: the environment's)"),
) -> None:
    if auto_approve and auto_reject:
        typer.echo("error: --auto-approve and --auto-reject are mutually exclusive", err=True)
        raise typer.Exit(2)
    if count < 0:
        typer.echo("error: --count must be >= 0", err=True)
        raise typer.Exit(2)
    if domain_id is not None:
        os.environ["ROS_DOMAIN_ID"] = str(domain_id)
    try:  # here, not at the top: `coc-ros ask` must work without ROS
        import rclpy
        from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

        from coc_ros.ros import names
        from coc_ros.ros.heartbeat import HeartbeatPublisher
        from coc_ros.srv import ApproveMotion
    except ImportError as exc:
        typer.echo(f"error: ROS 2 (rclpy) is not available: {exc}", err=True)
        raise typer.Exit(2) from None

    mode = "auto-approve" if auto_approve else "auto-reject" if auto_reject else "interactive"
    lock = threading.Lock()
    decisions = 0
    done = threading.Event()

    def serve(req: Any, resp: Any) -> Any:
        with heartbeat.serving():
            return decide(req, resp)

    def decide(req: Any, resp: Any) -> Any:
        nonlocal decisions
        try:
            request = json.loads(req.request_json or "{}")
        except json.JSONDecodeError:
            request = {"raw": req.request_json}
        if auto_approve:
            ok, why = True, reason or "auto-approved"
        elif auto_reject:
            ok, why = False, reason or "auto-rejected"
        else:
            ok, why = _decide_interactive(req.skill, request, lock)
        resp.approved, resp.reason = ok, why
        decisions += 1
        print(f"{'approved' if ok else 'rejected'} {req.skill} {json.dumps(request)}", flush=True)
        if count and decisions >= count:
            done.set()
        return resp

    rclpy.init(args=None)
    node = rclpy.create_node("coc_approver")
    heartbeat = HeartbeatPublisher(node, names.APPROVER_HEARTBEAT)
    node.create_service(ApproveMotion, names.APPROVE_MOTION, serve)
    executor = MultiThreadedExecutor(num_threads=2)  # the heartbeat's timer runs while a question waits
    executor.add_node(node)
    print(f"serving {names.APPROVE_MOTION} ({mode}); Ctrl-C to stop", flush=True)
    try:
        while rclpy.ok() and not done.is_set():
            executor.spin_once(timeout_sec=0.1)
        if done.is_set():  # let the last response go out
            for _ in range(5):
                executor.spin_once(timeout_sec=0.05)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    sys.stdout.flush()


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(approve)
    app()


if __name__ == "__main__":
    main()
