"""Layer 2 of the sandbox on its own. `ENTRY` is a test-only worker (it exists only in this file: the CLI, ROS goals
and config cannot reach it): it confines itself exactly as the sandbox worker does (`worker.confine`) and then runs
a program with the REAL builtins and os/socket/subprocess already imported, as if layer 1 had been bypassed
entirely. Every way out must still fail, with a clear error."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import coc_ros
from coc_ros.core.types import Limits
from coc_ros.sandbox import isolation
from coc_ros.sandbox.host import SandboxRun

pytestmark = pytest.mark.timeout(60)

ENTRY = r"""
import builtins, ctypes, json, os, socket, subprocess, sys
from coc_ros.core.types import Limits
from coc_ros.sandbox import worker

layers = worker.confine(Limits())
program = sys.stdin.read()
namespace = {"__builtins__": builtins, "os": os, "socket": socket, "subprocess": subprocess, "ctypes": ctypes}
try:
    exec(program, namespace)
    out = {"ok": True, "result": namespace.get("result")}
except BaseException as exc:
    out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
out["layers"] = [layer.to_dict() for layer in layers]
sys.stdout.write(json.dumps(out, default=repr))
"""
SENTINEL_NAME = "COC_TEST_HOST_SECRET"


def run_unrestricted(program: str) -> dict:
    """Run `program` with real builtins behind layer 2 only, in the environment the host gives its workers."""
    package_root = str(Path(coc_ros.__file__).resolve().parents[1])
    env = isolation.worker_environment(os.pathsep.join([package_root] + [p for p in sys.path if p]))
    proc = subprocess.run([sys.executable, "-s", "-c", ENTRY], input=program, env=env, capture_output=True,
                          text=True, timeout=30, start_new_session=True, cwd="/tmp")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.fixture(autouse=True)
def host_secret(monkeypatch):
    monkeypatch.setenv(SENTINEL_NAME, "sk-test-do-not-leak")


def _assert_refused(out: dict, error: str) -> None:
    assert not out["ok"], f"layer 2 let it through: {out.get('result')!r}"
    assert re.match(error, out["error"]), out["error"]
    assert all(layer["active"] for layer in out["layers"]), out["layers"]


def test_every_layer_is_active_and_plain_code_still_runs():
    out = run_unrestricted("result = sum(range(10))")
    assert out["ok"] and out["result"] == 45, out
    assert [layer["name"] for layer in out["layers"]] == [
        "environment", "no_new_privs", "unprivileged user", "landlock", "seccomp"]
    assert all(layer["active"] for layer in out["layers"]), out["layers"]


def test_reading_etc_passwd_fails():
    _assert_refused(run_unrestricted("result = open('/etc/passwd').read()"), "PermissionError")


def test_listing_the_home_directory_fails():
    _assert_refused(run_unrestricted("result = os.listdir('/root' if os.path.isdir('/root') else '/home')"),
                    "PermissionError")


def test_writing_any_file_fails(tmp_path):
    target = tmp_path / "escaped.txt"
    tmp_path.chmod(0o777)  # writable for the unprivileged user too: only Landlock stands in the way
    _assert_refused(run_unrestricted(f"result = open({str(target)!r}, 'w').write('x')"), "PermissionError")
    assert not target.exists()


def test_creating_a_socket_fails():
    _assert_refused(run_unrestricted("result = socket.socket(socket.AF_INET, socket.SOCK_STREAM)"),
                    "PermissionError")
    _assert_refused(run_unrestricted("result = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)"),
                    "PermissionError")


def test_running_bin_true_fails():
    _assert_refused(run_unrestricted("result = os.posix_spawn('/bin/true', ['true'], {})"), "PermissionError")
    _assert_refused(run_unrestricted("os.execv('/bin/true', ['true'])"), "PermissionError")
    # subprocess first needs a pipe, which the file-descriptor limit already refuses
    _assert_refused(run_unrestricted("result = subprocess.run(['/bin/true']).returncode"),
                    r"(PermissionError|OSError): \[Errno (1|13|24)\]")


def test_os_system_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    tmp_path.chmod(0o777)
    out = run_unrestricted(f"result = os.system('touch {marker}')")
    assert out["ok"] and out["result"] != 0, out  # the C library's system() reports the refused process as a status
    assert not marker.exists()


def test_forking_fails():
    _assert_refused(run_unrestricted("result = os.fork()\nif result == 0:\n    os._exit(0)"), "PermissionError")


def test_the_hosts_environment_is_not_visible():
    _assert_refused(run_unrestricted(f"result = os.environ[{SENTINEL_NAME!r}]"), "KeyError")
    _assert_refused(run_unrestricted(f"result = open('/proc/{os.getpid()}/environ').read()"), "PermissionError")


def test_signalling_the_host_fails():
    _assert_refused(run_unrestricted(f"os.kill({os.getpid()}, 0)"), "PermissionError")


def test_root_is_dropped_to_nobody():
    out = run_unrestricted("result = [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]")
    uid = isolation.NOBODY if os.geteuid() == 0 else os.getuid()  # a worker started unprivileged stays so
    gid = isolation.NOBODY if os.geteuid() == 0 else os.getgid()
    assert out["ok"] and out["result"][:3] == [uid, uid, gid], out
    if os.geteuid() == 0:
        assert out["result"][3] == [], out


def test_real_worker_reports_every_layer_active():
    events: list[dict] = []
    run = SandboxRun(limits=Limits(timeout_s=20), simulate=lambda m: {"value": "1"}, robot=None,
                     on_event=events.append)
    done = run.run("answer = 6 * 7", "coc-python", [])
    assert done["answer"] == 42
    assert {layer["name"]: layer["active"] for layer in done["isolation"]} == {
        "environment": True, "no_new_privs": True, "unprivileged user": True, "landlock": True, "seccomp": True}
    assert not [e for e in events if e.get("kind") == "sandbox"], "a missing layer would be in the trace"


def test_worker_environment_is_an_allowlist():
    env = isolation.worker_environment("/x")
    assert SENTINEL_NAME not in env and set(env) <= isolation.WORKER_ENV_KEYS and env["PYTHONPATH"] == "/x"


def test_seccomp_filter_jumps_stay_inside_the_program():
    prog = isolation.seccomp_filter(1234)
    for index, (code, jt, jf, _) in enumerate(prog):
        if code & 0x07 == 0x05:  # BPF_JMP
            assert index + 1 + max(jt, jf) < len(prog)
    assert prog[-1] == (0x06, 0, 0, 0x7FFF0000)  # default: allow


def test_doctor_lists_every_layer_from_a_real_worker():
    from coc_ros.commands.doctor import sandbox_layers

    layers = sandbox_layers()
    assert [layer["name"] for layer in layers] == [
        "environment", "no_new_privs", "unprivileged user", "landlock", "seccomp"]
    assert all(layer["active"] and layer["detail"] for layer in layers), layers


MISSING_LANDLOCK_ENTRY = r"""
import json, sys
from coc_ros.sandbox import isolation, worker

isolation.landlock_abi = lambda libc=None: 0  # stands for a kernel without Landlock


class Host:
    def __init__(self):
        self.events = []

    def event(self, event):
        self.events.append(event)


host = Host()
result = worker.run({"program": "answer = 6 * 7", "mode": "coc-python", "limits": {}}, host)
sys.stdout.write(json.dumps({"result": result, "events": host.events}))
"""


def test_a_missing_layer_is_reported_in_the_result_and_the_trace_and_the_run_still_works():
    package_root = str(Path(coc_ros.__file__).resolve().parents[1])
    env = isolation.worker_environment(os.pathsep.join([package_root] + [p for p in sys.path if p]))
    proc = subprocess.run([sys.executable, "-s", "-c", MISSING_LANDLOCK_ENTRY], env=env, capture_output=True,
                          text=True, timeout=30, start_new_session=True, cwd="/tmp")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["result"]["answer"] == 42
    landlock = {layer["name"]: layer for layer in out["result"]["isolation"]}["landlock"]
    assert not landlock["active"] and "not available" in landlock["detail"]
    [event] = [e for e in out["events"] if e["kind"] == "sandbox"]
    assert event["source"] == "sandbox layer(s) missing: landlock"
    assert any(not layer["active"] for layer in event["detail"]["isolation"])
