"""The package builds with colcon in a normal workspace against the venv's ROS prefix, and a node runs from
install/ after `source install/setup.bash` (scripts/colcon_check.sh does exactly what a ROS user would)."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_colcon_build_and_run_installed_node():
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "colcon_check.sh")], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
