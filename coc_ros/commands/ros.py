"""Placeholder until this group lands."""
import typer


def register(app: typer.Typer) -> None:
    """No commands yet."""
