"""The Chain of Code engine: program generation, per-statement interpretation, LMulator. Imports nothing from ROS."""
from coc_ros.core.types import (
    CocError,
    Limits,
    Mode,
    RunResult,
    TraceEvent,
)

__all__ = ["CocError", "Limits", "Mode", "RunResult", "TraceEvent"]
