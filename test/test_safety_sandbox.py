"""The adversarial suite of coc_ros.bench.safety, one test per case: the run fails with the expected error kind and
a clear message, nothing escapes (no sentinel file, no process left) and the engine serves the next run."""
from __future__ import annotations

import sys

import pytest

from coc_ros.bench.safety import CASES, check_case, run_safety_suite
from coc_ros.sandbox import policy

pytestmark = pytest.mark.timeout(120)


def test_suite_is_big_enough_and_names_are_unique():
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)
    for category in ("import", "introspection", "builtins", "modules", "syntax", "forms", "proxies", "stdlib",
                     "limits", "lm-injection", "robot"):
        assert any(c.category == category for c in CASES), category


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_is_contained(case, tmp_path):
    row = check_case(case, tmp_dir=tmp_path)
    assert row["ok"], f"{case.name}: {row['problems']} (error: [{row['error_kind']}] {row['error']})"
    assert not list(tmp_path.iterdir()), "the program created a file"


def test_run_safety_suite_returns_rows(capsys):
    rows = run_safety_suite([c for c in CASES if c.name in ("import_os", "vars")])
    assert [r["case"] for r in rows] == ["import_os", "vars"] and all(r["ok"] for r in rows)
    assert {"case", "category", "outcome", "error", "seconds"} <= set(rows[0])
    assert "import_os" in capsys.readouterr().out


def test_literal_format_strings_still_work(run_program):
    result, _ = run_program("answer = '{} has {:.1f} {name}'.format('x', 2.25, name='legs')")
    assert result.success, result.error
    assert result.answer == "x has 2.2 legs"


def test_allowed_module_attributes_still_work(run_program):
    result, _ = run_program("import json, operator, re\nanswer = [json.decoder.JSONDecodeError.__name__ "
                            "if False else 1, operator.itemgetter(0)([5]), re.sub('a', 'b', 'aa')]")
    assert not result.success and result.error_kind == "sandbox"  # dunder in source: the static check
    result, _ = run_program("import json, operator, re\n"
                            "answer = [json.loads('[1]'), operator.itemgetter(0)([5]), re.sub('a', 'b', 'aa')]")
    assert result.success, result.error
    assert result.answer == [[1], 5, "bb"]


def test_static_check_rejects_dynamic_format_receiver():
    import ast

    with pytest.raises(Exception, match="literal format string"):
        policy.check_program(ast.parse("s = 'x'\ny = s.format(1)"))
    policy.check_program(ast.parse("y = '{0[1]} {a.real}'.format([1, 2], a=3)"))


@pytest.mark.parametrize("source", [
    "match x:\n    case C(__globals__=g):\n        pass",
    "async def f():\n    pass",
    "try:\n    pass\nexcept* ValueError:\n    pass",
])
def test_static_check_refuses_syntax_outside_the_allowlist(source):
    import ast

    with pytest.raises(Exception, match="not allowed|not supported"):
        policy.check_program(ast.parse(source))


def test_static_check_refuses_node_types_it_does_not_know(monkeypatch):
    import ast

    tree = ast.parse("x = 1")
    monkeypatch.setattr(policy, "ALLOWED_NODES", policy.ALLOWED_NODES - {ast.Assign})
    with pytest.raises(Exception, match="the syntax 'Assign' is not allowed"):
        policy.check_program(tree)


def test_audit_hook_settings_are_frozen_in_its_closure(monkeypatch):
    from coc_ros.core.types import Abort

    hook = policy._make_audit_hook(policy.ALLOWED_MODULES, frozenset())
    monkeypatch.setattr(policy, "BLOCKED_AUDIT_PREFIXES", ())
    monkeypatch.setattr(policy, "Abort", RuntimeError)
    with pytest.raises(Abort, match="blocked by the sandbox: open"):
        hook("open", ("/etc/passwd", "r", 0))
    with pytest.raises(Abort, match="os.system"):
        hook("os.system", (b"id",))
    hook("open", (1, "w", 0))  # the worker's own standard streams stay usable


def test_import_and_module_proxies_are_frozen_and_leak_nothing(monkeypatch):
    import copy

    from coc_ros.core.types import Abort

    monkeypatch.setattr(policy, "MODULE_ATTRIBUTE_DENYLIST", {})
    monkeypatch.setattr(policy, "ALLOWED_MODULES", frozenset({"os"}))
    operator = policy.restricted_import("operator")
    with pytest.raises(Abort):
        _ = operator.attrgetter
    with pytest.raises(Abort, match="import of 'os' is not allowed"):
        policy.restricted_import("os", fromlist=("system",))
    assert "os" in sys.modules and "sys" in sys.modules
    for loaded in ("os", "sys", "os.path", "builtins"):  # loaded already, yet never handed out
        with pytest.raises(Abort, match=f"import of '{loaded}' is not allowed"):
            policy.restricted_import(loaded)
    assert policy.restricted_import("time") is sys.modules["time"]  # what datetime's C code imports at run time
    typing = policy.restricted_import("typing")
    assert copy.copy(typing) is typing and copy.deepcopy(typing) is typing
    with pytest.raises(TypeError, match="cannot be copied"):
        typing.__reduce_ex__(4)
    with pytest.raises(AttributeError) as info:
        _ = typing.no_such_name
    assert info.value.obj is None or isinstance(info.value.obj, policy.ModuleProxy)  # never the real module
    assert info.value.__context__ is None  # nor an inner AttributeError that holds it


# --------------------------------------------------------------- red-team round of the seventeenth session
COPY_REDUCE_CHAIN = """
import functools, copy, collections.abc
class Hook(collections.abc.Sized):
    pass
found = []
def grab(other):
    found.append(other)
    return NotImplemented
class Carrier:
    def make(self):
        return lambda protocol: (lambda: Hook, (), (None, {'__subclasshook__': grab}))
    reducer = functools.cached_property(make)
Carrier.reducer.attrname = '__reduce_ex__'
c = Carrier()
c.reducer
copy.deepcopy(c)
isinstance(int, Hook)
answer = str(found)
"""


def test_cached_property_is_denied_so_copy_cannot_set_attributes_by_name(run_program):
    """A cached_property renamed to '__reduce_ex__' stored a reducer in an instance's __dict__; copy.deepcopy then
    set Hook.__subclasshook__ by its string name, and isinstance(int, Hook) handed the program the real `type`
    (the run succeeded with answer "[<class 'type'>]")."""
    from coc_ros.core.types import Abort

    functools = policy.restricted_import("functools")
    with pytest.raises(Abort, match="functools.cached_property is not allowed"):
        _ = functools.cached_property
    assert functools.lru_cache is not None  # the rest of functools stays usable
    result, _ = run_program(COPY_REDUCE_CHAIN)
    assert not result.success and result.error_kind == "sandbox", (result.answer, result.error)
    assert "functools.cached_property is not allowed" in result.error


@pytest.mark.parametrize("end", ["stop", "reset"])
def test_a_motion_approved_after_its_goal_ended_is_not_made(end):
    """The operator's approval used to be the last check: a run that timed out (the host stops the robot) or a
    next goal (reset) while the approval was pending did not stop the motion once it was approved."""
    import threading
    import time

    from coc_ros.robot.api import RobotAPI, SafetyConfig
    from coc_ros.robot.backend import SkillError
    from coc_ros.robot.fake_backend import FakeSkillBackend

    asked, release = threading.Event(), threading.Event()

    def approver(skill, request):
        asked.set()
        release.wait(5)
        return True

    backend = FakeSkillBackend(motion_s=0.0)
    robot = RobotAPI(backend, SafetyConfig(require_confirmation=True), approver=approver)
    robot.reset()
    outcome = {}

    def call():
        try:
            outcome["result"] = robot.call("pick_place", ["red_cube", "box"], {})
        except SkillError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=call)
    thread.start()
    assert asked.wait(5)
    robot.stop() if end == "stop" else robot.reset()
    time.sleep(0.05)
    release.set()
    thread.join(5)
    assert backend.world["red_cube"] == "table" and robot.motions == 0 and not robot.done
    assert outcome["error"].code == "canceled", outcome
    # approved in time, within its goal: the motion is made
    release.set()
    robot.reset()
    assert robot.call("pick_place", ["red_cube", "box"], {}) == "placed red_cube in box"
    assert backend.world["red_cube"] == "box"


@pytest.mark.parametrize("args", [("0.3", "0.0", "0.3"), (0.5, False, True), (10**400, 0, 0.3)])
def test_move_to_takes_numbers_only(args):
    from coc_ros.robot.api import RobotAPI
    from coc_ros.robot.backend import SkillError
    from coc_ros.robot.fake_backend import FakeSkillBackend

    robot = RobotAPI(FakeSkillBackend(motion_s=0.0))
    with pytest.raises(SkillError, match="move_to needs numbers"):
        robot.call("move_to", list(args), {})
    with pytest.raises(SkillError, match="velocity scaling must be a number"):
        robot.call("move_to", [0.3, 0.0, 0.3, 10**400], {})
    assert robot.motions == 0
    assert robot.call("move_to", [0.3, 0, 0.3], {}) == "moved"  # ints and floats still do
