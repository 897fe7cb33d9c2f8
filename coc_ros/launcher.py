"""Node processes: the one launcher behind `coc-ros bringup`, `coc-ros demo`, the soak and latency benchmarks and
the ROS tests, and the ROS_DOMAIN_IDs they run on.

    bringup [--params config/coc_ros.yaml] [--nodes lmulator,skill_server,recorder,coc_server]

Each node runs as `python -m coc_ros.nodes.<name> --ros-args --params-file FILE`, in its own session, and gets
SIGTERM if the launcher dies (Linux PR_SET_PDEATHSIG). Stopping sends SIGINT, then SIGKILL after a grace period.
bringup forwards SIGINT/SIGTERM; if any node exits on its own, it stops the others and exits 1.
On a full ROS 2 install, launch/sim.launch.py starts the same nodes with the same file.

Domain IDs: tests, demo, soak and benchmarks draw from disjoint ranges, each ID held by a lock file while in
use, so parallel runs on one machine never share a DDS domain. Every range keeps Fast DDS's ports
(7400 + 250 * domain + offsets) below Linux's ephemeral port range, where an outgoing connection could take them.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any
from collections.abc import Callable

import yaml

from coc_ros.config import config_dir, load_yaml

NODES = ("lmulator", "skill_server", "recorder", "coc_server")

# Disjoint ROS_DOMAIN_ID ranges (0-9 stay free for users; Fast DDS ports of 0-101 are below 32768).
DOMAINS = {"test": range(10, 60), "demo": range(60, 75), "soak": range(75, 85), "bench": range(85, 95)}
PARTICIPANTS_PER_DOMAIN = 32  # Fast DDS unicast ports: 7400 + 250 d + 10/11 + 2 p for participant p
LOCK_DIR = Path(os.environ.get("COC_ROS_LOCK_DIR", "/tmp/coc_ros_domains"))


def domain_ports(domain: int) -> tuple[int, int]:
    """Lowest and highest UDP port Fast DDS uses on `domain` (multicast and unicast, PARTICIPANTS_PER_DOMAIN)."""
    base = 7400 + 250 * domain
    return base, base + 11 + 2 * (PARTICIPANTS_PER_DOMAIN - 1)


def ephemeral_ports() -> tuple[int, int]:
    """Linux's range for outgoing connections' local ports (the kernel default when /proc is unreadable)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


class DomainLease:
    """A ROS_DOMAIN_ID from `purpose`'s range, held (an flock on a file) until release(): two processes on this
    machine never get the same one."""

    def __init__(self, purpose: str):
        if purpose not in DOMAINS:
            raise ValueError(f"unknown domain purpose {purpose!r}; known: {', '.join(DOMAINS)}")
        ids = list(DOMAINS[purpose])
        start = random.Random(os.getpid() * 7919 + time.time_ns()).randrange(len(ids))
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        eph_low, eph_high = ephemeral_ports()
        for domain in ids[start:] + ids[:start]:
            low, high = domain_ports(domain)
            if high >= eph_low and low <= eph_high:
                continue  # this machine's ephemeral range reaches into the domain's ports
            fh = open(LOCK_DIR / f"{domain}.lock", "w")  # held open: the lock lives with it
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            self.domain, self._fh = domain, fh
            return
        raise RuntimeError(f"no free ROS_DOMAIN_ID in {purpose} range {ids[0]}-{ids[-1]} clear of the ephemeral "
                           f"ports {eph_low}-{eph_high}")

    def release(self) -> None:
        self._fh.close()


def ros_env(domain: int, log_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a node on a private domain: loopback discovery, logs under log_dir."""
    env = dict(os.environ if base is None else base)
    env.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", ROS_LOG_DIR=str(log_dir),
               PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
    env.pop("ROS_LOCALHOST_ONLY", None)  # ignored since kilted; the discovery range above replaces it
    return env


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the launcher dies, so no node outlives a killed launcher."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class NodeLauncher:
    """Starts coc_ros nodes as processes and stops them; with a log_dir each start gets its own log file
    (<name>_<n>.log), else the nodes write to the launcher's stdout/stderr."""

    def __init__(self, env: dict[str, str] | None = None, *, log_dir: Path | None = None, grace: float = 10.0,
                 say: Callable[[str], None] = lambda _m: None):
        self.env = dict(os.environ if env is None else env)
        self.log_dir = log_dir
        self.grace = grace
        self.say = say
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self._starts: dict[str, int] = {}

    def start(self, name: str, *, params: dict[str, Any] | None = None,
              params_file: Path | None = None) -> subprocess.Popen[bytes]:
        """Start node `name` with a params file, or with `params` written into one (log_dir needed)."""
        if name not in NODES:
            raise ValueError(f"unknown node {name!r}; known: {', '.join(NODES)}")
        n = self._starts[name] = self._starts.get(name, 0) + 1
        if params is not None:
            if self.log_dir is None:
                raise ValueError("params need a log_dir to write their file into")
            params_file = self.log_dir / f"{name}_{n}.yaml"
            params_file.write_text(yaml.safe_dump({name: {"ros__parameters": params}}))
        cmd = [sys.executable, "-m", f"coc_ros.nodes.{name}"]
        if params_file is not None:
            cmd += ["--ros-args", "--params-file", str(params_file)]
        out: IO[bytes] | None = None
        if self.log_dir is not None:
            self.logs[name] = self.log_dir / f"{name}_{n}.log"
            out = open(self.logs[name], "wb")  # the child holds it; closed right after the fork
        try:
            proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            if out is not None:
                out.close()
        self.procs[name] = proc
        self.say(f"[bringup] started {name} (pid {proc.pid})")
        return proc

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace")[-chars:] if path and path.exists() else ""

    def stop(self, name: str, sig: int = signal.SIGINT) -> int | None:
        """Stop one node (`sig`, then SIGKILL after the grace period); its exit code."""
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
        return self._reap(name, time.monotonic() + self.grace)

    def close(self) -> dict[str, int | None]:
        """Stop every node: one SIGINT to all at once (a second one would cut their shutdown short), then wait;
        the exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + self.grace
        return {name: self._reap(name, deadline) for name in list(self.procs)}

    def _reap(self, name: str, deadline: float) -> int | None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.say(f"[bringup] {name} did not stop within {self.grace:g} s; its threads' stacks follow; killing it")
            proc.send_signal(signal.SIGUSR1)  # coc_ros.ros.spin: every thread's stack to the node's stderr
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1.0)
            proc.kill()
            proc.wait(5)
        return proc.returncode

    def exited(self) -> tuple[str, int] | None:
        """The first node found to have exited, with its code."""
        for name, proc in self.procs.items():
            code = proc.poll()
            if code is not None:
                return name, code
        return None

    def check_alive(self) -> None:
        dead = self.exited()
        if dead is not None:
            raise RuntimeError(f"node {dead[0]} exited with {dead[1]}:\n{self.log_tail(dead[0])}")


def default_params() -> Path:
    return config_dir() / "coc_ros.yaml"


def nodes_from_params(path: Path) -> list[str]:
    """`bringup: ros__parameters: nodes: [...]` in the params file, else all nodes."""
    data = load_yaml(path)
    nodes = ((data.get("bringup") or {}).get("ros__parameters") or {}).get("nodes")
    return list(nodes) if nodes else list(NODES)


def bringup(params: Path, nodes: list[str], grace: float = 10.0) -> int:
    """Start `nodes` from one params file; run until SIGINT/SIGTERM or until a node exits; the exit code."""
    unknown = set(nodes) - set(NODES)
    if unknown:
        raise ValueError(f"unknown node(s): {', '.join(sorted(unknown))}; known: {', '.join(NODES)}")
    launcher = NodeLauncher(grace=grace, say=lambda m: print(m, file=sys.stderr, flush=True))
    stop_signal: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop_signal.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for name in nodes:
            launcher.start(name, params_file=params)
        while not stop_signal and launcher.exited() is None:
            time.sleep(0.1)
    finally:
        dead = launcher.exited()
        if stop_signal:
            launcher.say(f"[bringup] {signal.Signals(stop_signal[0]).name}: stopping nodes")
        elif dead is not None:
            launcher.say(f"[bringup] node {dead[0]} exited with code {dead[1]}; stopping the others")
        codes = launcher.close()
    if dead is not None and not stop_signal:
        return 1
    return 0 if all(c in (0, -signal.SIGINT) for c in codes.values()) else 1


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
        code = bringup(params, nodes, args.grace)
    except ValueError as exc:
        parser.error(str(exc))
    raise SystemExit(code)


if __name__ == "__main__":
    main()
