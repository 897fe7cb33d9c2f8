"""Layer 2 of the sandbox: operating-system confinement of the worker, independent of the Python policy (layer 1).

The worker applies it after it has imported everything it will ever need and before any generated code runs, so
that code which got past every Python-level check still cannot read or write files, open sockets, start, trace or
signal other processes, or see the host's environment:
- environment: the host starts the worker with `worker_environment()` (an allowlist, never the host's variables);
- no_new_privs, then, when started as root, a drop to nobody/nogroup without supplementary groups;
- Landlock: read-only access beneath the Python standard library, site-packages and the coc_ros package, nothing
  else readable, nothing writable; TCP bind/connect refused (ABI >= 4); signals and abstract unix sockets towards
  processes outside the sandbox refused (ABI >= 6);
- seccomp: socket creation, exec, fork/vfork/clone of processes (threads stay allowed), ptrace and other kernel
  attack surface refused with EPERM; kill/tgkill only towards the worker itself.
Every step reports whether it is active: a kernel without a feature shows in the result, the trace and
`coc-ros doctor`, never silently.
"""
from __future__ import annotations

import ctypes
import dataclasses
import errno
import os
import site
import struct
from pathlib import Path

import coc_ros

NOBODY = 65534  # uid and gid of nobody/nogroup on Debian and most distributions

# Variables the worker may inherit; everything else of the host's environment (API keys, ROS settings) stays out.
_ENV_FIXED: dict[str, str] = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                              "PYTHONNOUSERSITE": "1", "PYTHONIOENCODING": "utf-8"}
# Passed on when set: the library path of a Python or ROS wheels outside the default path, the ROS wheels' guard
# that otherwise makes every worker re-exec itself once at start-up (twice the start-up time), and the time zone.
_ENV_PASSED: tuple[str, ...] = ("LD_LIBRARY_PATH", "_ROS_WHEELS_BOOTSTRAP_COMPLETE", "TZ")
WORKER_ENV_KEYS: frozenset[str] = frozenset(_ENV_FIXED) | frozenset(_ENV_PASSED) | {"PYTHONPATH"}


@dataclasses.dataclass(frozen=True)
class Layer:
    """One confinement step and whether the kernel let it take effect."""

    name: str
    active: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def worker_environment(pythonpath: str) -> dict[str, str]:
    """The whole environment of a worker process: fixed values, the module path, and nothing from the host."""
    env = dict(_ENV_FIXED)
    env.update({k: os.environ[k] for k in _ENV_PASSED if k in os.environ})
    env["PYTHONPATH"] = pythonpath
    return env


def read_only_paths() -> list[str]:
    """What the worker may still read once confined: the standard library, site-packages, the coc_ros package."""
    candidates = [os.path.dirname(os.__file__), *site.getsitepackages(), str(Path(coc_ros.__file__).parent)]
    out: list[str] = []
    for path in candidates:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real not in out:
            out.append(real)
    return out


def confine(paths: list[str]) -> list[Layer]:
    """Confine this process for the rest of its life; return what took effect. Order matters: no_new_privs first
    (Landlock and seccomp need it when unprivileged), rule paths opened while still privileged, seccomp last."""
    libc = ctypes.CDLL(None, use_errno=True)
    layers = [_check_environment()]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        layers.append(Layer("no_new_privs", False, _errno_text("prctl(PR_SET_NO_NEW_PRIVS)")))
    else:
        layers.append(Layer("no_new_privs", True, "set"))
    fds = _open_paths(paths)
    try:
        layers.append(_drop_privileges())
        layers.append(_landlock(libc, fds))
    finally:
        for fd in fds.values():
            os.close(fd)
    layers.append(_seccomp(libc))
    return layers


def missing(layers: list[Layer]) -> list[Layer]:
    return [layer for layer in layers if not layer.active]


# ------------------------------------------------------------------------------------------------------- steps
def _check_environment() -> Layer:
    extra = sorted(set(os.environ) - WORKER_ENV_KEYS)
    if extra:
        return Layer("environment", False, f"{len(extra)} variable(s) outside the allowlist: {', '.join(extra[:5])}")
    return Layer("environment", True, f"allowlist only: {', '.join(sorted(os.environ))}")


def _drop_privileges() -> Layer:
    if os.geteuid() != 0:
        return Layer("unprivileged user", True, f"started unprivileged (uid {os.getuid()})")
    try:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    except OSError as exc:
        return Layer("unprivileged user", False, f"could not drop root: {exc}")
    return Layer("unprivileged user", True, f"root dropped to uid/gid {NOBODY}, no supplementary groups")


def _open_paths(paths: list[str]) -> dict[str, int]:
    fds: dict[str, int] = {}
    for path in paths:
        try:
            fds[path] = os.open(path, os.O_PATH | os.O_CLOEXEC | os.O_DIRECTORY)
        except OSError:
            continue  # a path that vanished is simply not readable
    return fds


# Landlock (linux/landlock.h). The syscall numbers are the same on every architecture.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_READ_FILE, _FS_READ_DIR = 1 << 2, 1 << 3
_FS_ABI1_ALL = (1 << 13) - 1  # execute, write, read, readdir, remove, make char/dir/reg/sock/fifo/block/sym
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3, 5
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2  # ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi(libc: ctypes.CDLL | None = None) -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    libc = libc or ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(ctypes.c_long(_SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(abi, 0)


def _landlock(libc: ctypes.CDLL, fds: dict[str, int]) -> Layer:
    abi = landlock_abi(libc)
    if abi < 1:
        return Layer("landlock", False, "Landlock is not available in this kernel: files are not confined")
    handled = _FS_ABI1_ALL | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0) \
        | (_FS_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0,
                        _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(ctypes.c_long(_SYS_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        return Layer("landlock", False, _errno_text("landlock_create_ruleset"))
    try:
        for path, fd in fds.items():
            rule = _PathBeneathAttr(_FS_READ_FILE | _FS_READ_DIR, fd)
            if libc.syscall(ctypes.c_long(_SYS_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                            ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                return Layer("landlock", False, _errno_text(f"landlock_add_rule({path})"))
        if libc.syscall(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            return Layer("landlock", False, _errno_text("landlock_restrict_self"))
    finally:
        os.close(ruleset)
    extras = (["TCP bind/connect refused"] if abi >= 4 else []) + (["signals scoped"] if abi >= 6 else [])
    return Layer("landlock", True, f"ABI {abi}: read-only {', '.join(fds)}; nothing writable"
                 + "".join(f"; {e}" for e in extras))


# seccomp (linux/seccomp.h, linux/filter.h), x86_64 system call numbers.
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_ERRNO, _RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_CLONE_THREAD = 0x00010000
_NR_CLONE, _NR_CLONE3, _NR_KILL, _NR_TGKILL = 56, 435, 62, 234
_DENIED_SYSCALLS: dict[str, int] = {
    # network: the worker talks to the host over inherited pipes only
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53, "accept4": 288,
    # processes: no new process, no exec, no looking into or signalling others
    "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310,
    "process_vm_writev": 311, "kcmp": 312, "pidfd_open": 434, "pidfd_getfd": 438, "pidfd_send_signal": 424,
    "process_madvise": 440, "tkill": 200, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
    # namespaces, mounts and other kernel attack surface
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250, "add_key": 248, "request_key": 249,
    "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
    "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "open_by_handle_at": 304,
    "name_to_handle_at": 303, "mknod": 133, "mknodat": 259, "iopl": 172, "ioperm": 173, "quotactl": 179,
    "syslog": 103, "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
    "sethostname": 170, "setdomainname": 171, "uselib": 134, "lookup_dcookie": 212, "vhangup": 153,
}


def seccomp_filter(pid: int) -> list[tuple[int, int, int, int]]:
    """The BPF program as (code, jt, jf, k): deny the listed calls with EPERM, clone3 with ENOSYS (so that the C
    library falls back to clone, whose flags a filter can read), clone without CLONE_THREAD, kill/tgkill of any
    process but `pid`; any other architecture or the x32 ABI kills the process."""
    deny = (_RET_K, 0, 0, _RET_ERRNO | errno.EPERM)
    prog = [(_LD_W_ABS, 0, 0, 4), (_JEQ_K, 1, 0, _AUDIT_ARCH_X86_64), (_RET_K, 0, 0, _RET_KILL_PROCESS),
            (_LD_W_ABS, 0, 0, 0), (_JGE_K, 0, 1, _X32_SYSCALL_BIT), deny]
    for nr in sorted(_DENIED_SYSCALLS.values()):
        prog += [(_JEQ_K, 0, 1, nr), deny]
    prog += [(_JEQ_K, 0, 1, _NR_CLONE3), (_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS)]
    prog += [(_JEQ_K, 0, 5, _NR_KILL), (_LD_W_ABS, 0, 0, 16), (_JEQ_K, 2, 0, pid), (_JEQ_K, 1, 0, 0), deny,
             (_RET_K, 0, 0, _RET_ALLOW)]
    prog += [(_JEQ_K, 0, 4, _NR_TGKILL), (_LD_W_ABS, 0, 0, 16), (_JEQ_K, 1, 0, pid), deny,
             (_RET_K, 0, 0, _RET_ALLOW)]
    prog += [(_JEQ_K, 0, 4, _NR_CLONE), (_LD_W_ABS, 0, 0, 16), (_JSET_K, 1, 0, _CLONE_THREAD), deny,
             (_RET_K, 0, 0, _RET_ALLOW)]
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp(libc: ctypes.CDLL) -> Layer:
    machine = os.uname().machine
    if machine != "x86_64":
        return Layer("seccomp", False, f"no system call filter for {machine}: exec, fork and sockets are not "
                                       "refused by the kernel")
    prog = seccomp_filter(os.getpid())
    raw = b"".join(struct.pack("=HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return Layer("seccomp", False, _errno_text("prctl(PR_SET_SECCOMP)"))
    return Layer("seccomp", True, "sockets, exec, fork/clone of processes, ptrace, mounts, namespaces, signals to "
                                  "other processes refused")


def _errno_text(what: str) -> str:
    code = ctypes.get_errno()
    return f"{what} failed: {os.strerror(code)} (errno {code})"
