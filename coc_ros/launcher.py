"""`bringup`: start every coc_ros node as its own process from one params YAML, like a launch file would.

    bringup [--params config/coc_ros.yaml] [--nodes lmulator,skill_server,recorder,coc_server]

Each node runs as `python -m coc_ros.nodes.<name> --ros-args --params-file FILE`. SIGINT/SIGTERM are forwarded
(as SIGINT, then SIGKILL after `--grace` seconds); if any node exits on its own, the others are stopped and
bringup exits 1. Children get SIGTERM if bringup itself dies (Linux PR_SET_PDEATHSIG).
On a full ROS 2 install, launch/sim.launch.py starts the same nodes with the same file.
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_NODES = ("lmulator", "skill_server", "recorder", "coc_server")


def _die_with_parent() -> None:
    try:
        import ctypes  # noqa: PLC0415

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: children just outlive a killed bringup
        pass


def default_params() -> Path:
    from coc_ros.config import config_dir  # noqa: PLC0415

    return config_dir() / "coc_ros.yaml"


def nodes_from_params(path: Path) -> list[str]:
    """`bringup: ros__parameters: nodes: [...]` in the params file, else all nodes."""
    from coc_ros.config import load_yaml  # noqa: PLC0415

    data = load_yaml(path)
    nodes = ((data.get("bringup") or {}).get("ros__parameters") or {}).get("nodes")
    return list(nodes) if nodes else list(DEFAULT_NODES)


class Bringup:
    def __init__(self, params: Path, nodes: list[str], grace: float = 10.0, log=print):
        unknown = set(nodes) - set(DEFAULT_NODES)
        if unknown:
            raise ValueError(f"unknown node(s): {', '.join(sorted(unknown))}; known: {', '.join(DEFAULT_NODES)}")
        self.params = params
        self.nodes = nodes
        self.grace = grace
        self.log = log
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self) -> None:
        for name in self.nodes:
            cmd = [sys.executable, "-m", f"coc_ros.nodes.{name}", "--ros-args", "--params-file", str(self.params)]
            self.procs[name] = subprocess.Popen(cmd, start_new_session=True, preexec_fn=_die_with_parent)
            self.log(f"[bringup] started {name} (pid {self.procs[name].pid})")

    def stop(self) -> None:
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + self.grace
        for name, proc in self.procs.items():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"[bringup] {name} did not exit after SIGINT; killing it")
                proc.kill()
                proc.wait(5)

    def wait(self) -> int:
        """Block until a signal arrives or a node dies; returns the exit code for bringup."""
        failed = None
        while not self.stopping:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    failed = (name, proc.returncode)
                    break
            if failed:
                break
            time.sleep(0.1)
        if failed:
            self.log(f"[bringup] node {failed[0]} exited with code {failed[1]}; stopping the others")
            self.stop()
            return 1
        return 0 if all(p.returncode in (0, -signal.SIGINT) for p in self.procs.values()) else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bringup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", type=Path, default=None, help="params YAML (default: config/coc_ros.yaml)")
    parser.add_argument("--nodes", default="", help="comma-separated nodes to start (default: from the file)")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to wait after SIGINT before SIGKILL")
    argv = sys.argv[1:] if argv is None else argv
    if "--ros-args" in argv:  # started by ros2 run / colcon: ROS arguments are not ours
        argv = argv[: argv.index("--ros-args")]
    args = parser.parse_args(argv)
    params = (args.params or default_params()).resolve()
    if not params.is_file():
        parser.error(f"params file not found: {params}")
    nodes = [n for n in args.nodes.split(",") if n] or nodes_from_params(params)
    try:
        bringup = Bringup(params, nodes, args.grace, log=lambda m: print(m, file=sys.stderr, flush=True))
    except ValueError as exc:
        parser.error(str(exc))

    def on_signal(signum: int, _frame: object) -> None:
        if not bringup.stopping:
            print(f"[bringup] {signal.Signals(signum).name}: stopping nodes", file=sys.stderr, flush=True)
            bringup.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        bringup.start()
        code = bringup.wait()
    except KeyboardInterrupt:
        bringup.stop()
        code = 0
    finally:
        if not bringup.stopping:
            bringup.stop()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
