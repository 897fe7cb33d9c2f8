"""`coc-ros`: the command-line entry point. Each group of subcommands lives in coc_ros/commands/<group>.py."""
from __future__ import annotations

import typer

from coc_ros.commands import approve, ask, bench, doctor, ros

app = typer.Typer(
    name="coc-ros",
    help="Chain of Code for ROS 2 manipulators: language goals -> programs -> Python + LMulator + robot skills.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Chain of Code for ROS 2 manipulators."""


for module in (ask, bench, ros, approve, doctor):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
