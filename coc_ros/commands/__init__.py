"""CLI subcommand groups; each module exposes register(app: typer.Typer)."""
