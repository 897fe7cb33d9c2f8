"""`coc-ros ask`: answer one question with the engine and show the program, the trace and the answer."""
from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from coc_ros.core.types import CocError, Mode, TraceEvent
from coc_ros.trace_view import TraceView


def register(app: typer.Typer) -> None:
    app.command(help="Answer a question with Chain of Code (program + Python + LMulator).")(ask)


def ask(
    question: str = typer.Argument(..., help="The question or instruction."),
    mode: str = typer.Option("coc-interweave", "--mode", "-m",
                             help="direct | cot | coc-python | coc-lm | coc-interweave"),
    llm: str | None = typer.Option(None, "--llm", help="local | openai | scripted:PATH (default from config)"),
    base_url: str | None = typer.Option(None, help="openai backend: server URL, e.g. http://127.0.0.1:8080/v1"),
    model: str | None = typer.Option(None, help="openai backend: model name; local backend: GGUF path"),
    timeout: float | None = typer.Option(None, help="wall-clock limit in seconds"),
    config: str | None = typer.Option(None, help="engine YAML (default config/engine.yaml)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of the readable trace"),
) -> None:
    from coc_ros.engine.runner import Engine
    from coc_ros.engine.settings import limits_from_config, llm_from_config, load_engine_config
    from coc_ros.llm.base import LLMError

    console = Console(stderr=as_json)
    try:
        Mode.parse(mode)
        cfg = load_engine_config(config)
        overrides = {"base_url": base_url, "model": model} if llm == "openai" else {"model_path": model}
        client = llm_from_config(cfg, llm, overrides)
        limits = limits_from_config(cfg, timeout_s=timeout)
    except (ValueError, FileNotFoundError, LLMError, CocError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None

    view = TraceView(console, summary=False)  # the result is printed below

    def show(event: TraceEvent) -> None:
        if not as_json:
            view.show(event)

    engine = Engine(client, limits=limits)
    result = engine.run(question, mode, on_event=show)
    if as_json:
        payload = {"answer": result.answer, "program": result.program, "mode": result.mode,
                   "trace": [e.to_dict() for e in result.trace], "lm_calls": result.lm_calls,
                   "success": result.success, "error": result.error, "error_kind": result.error_kind,
                   "seconds": round(result.seconds, 3), "prompt_tokens": result.prompt_tokens,
                   "completion_tokens": result.completion_tokens}
        sys.stdout.write(json.dumps(payload, default=repr) + "\n")
    else:
        console.rule("result")
        if result.success:
            console.print(f"[bold green]answer:[/bold green] {result.answer!r}")
        else:
            console.print(f"[bold red]error ({result.error_kind}):[/bold red] {result.error}")
        console.print(f"[dim]{result.lm_calls} LM calls, {result.prompt_tokens} prompt + "
                      f"{result.completion_tokens} completion tokens, {result.seconds:.1f} s[/dim]")
    if not result.success:
        raise typer.Exit(1)
