"""`coc-ros doctor`: checks that what install.sh sets up is really there, with a clear line per part."""
from __future__ import annotations

import importlib
from typing import Any

import typer
from rich.console import Console

from coc_ros.core.types import Limits
from coc_ros.sandbox.host import SandboxRun


def register(app: typer.Typer) -> None:
    app.command(help="Check the installation (ROS interfaces, simulator, model, LLM runtime, sandbox layers).")(doctor)


def doctor() -> None:
    from coc_ros.config import default_model_path, panda_assets_dir

    console = Console()
    ok = True

    def check(name: str, fn) -> None:
        nonlocal ok
        try:
            detail = fn()
            console.print(f"[green]ok[/green]   {name}: {detail}")
        except Exception as exc:
            ok = False
            console.print(f"[red]FAIL[/red] {name}: {exc}")

    check("rclpy", lambda: importlib.import_module("rclpy").__name__)
    check("coc_ros interfaces", lambda: importlib.import_module("coc_ros.action").ExecuteInstruction.__name__)
    check("mujoco", lambda: importlib.import_module("mujoco").__version__)
    check("llama_cpp", lambda: importlib.import_module("llama_cpp").__version__)
    check("local model", lambda: _exists(default_model_path()))
    check("Panda model", lambda: _exists(panda_assets_dir()))
    try:
        layers = sandbox_layers()
    except Exception as exc:
        layers = [{"name": "sandbox worker", "active": False, "detail": str(exc)}]
    for layer in layers:
        check(f"sandbox layer 2: {layer['name']}", lambda layer=layer: _active(layer))
    if not ok:
        raise typer.Exit(1)


def sandbox_layers() -> list[dict[str, Any]]:
    """The operating-system layers as a real sandbox worker reports them after confining itself."""
    run = SandboxRun(limits=Limits(timeout_s=20.0), simulate=lambda message: {"value": "None"}, robot=None,
                     on_event=lambda message: None)
    return run.run("answer = 1", "coc-python", []).get("isolation", [])


def _active(layer: dict[str, Any]) -> str:
    if not layer["active"]:
        raise RuntimeError(f"not active: {layer['detail']}")
    return layer["detail"]


def _exists(path) -> str:
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run install.sh")
    return str(path)
