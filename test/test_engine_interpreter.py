"""The per-statement interpreter through the engine with a scripted LM: what runs in Python, what the LMulator
predicts, and what is a real error."""
from __future__ import annotations

import ast


def lm_events(result):
    return [e for e in result.trace if e.executor == "lm"]


def lm_expressions(result):
    return [c["expression"] for e in result.trace for c in e.detail.get("lm_calls", [])]


def test_fruit_count_in_for_loop_simulates_each_call(run_program):
    program = ("items = ['apple', 'chair', 'banana', 'car']\ncount = 0\nfor x in items:\n"
               "    if is_fruit(x):\n        count += 1\nanswer = count")
    result, llm = run_program(program, ["True", "False", "True", "False"])
    assert result.success, result.error
    assert result.answer == 2
    assert len(lm_events(result)) == 4
    assert lm_expressions(result) == ["is_fruit('apple')", "is_fruit('chair')", "is_fruit('banana')",
                                      "is_fruit('car')"]
    assert llm.remaining == 0


def test_zero_division_is_an_error_not_simulated(run_program):
    result, llm = run_program("x = 1\ny = x / 0\nanswer = y", ["42"])
    assert not result.success
    assert result.error_kind == "program"
    assert "ZeroDivisionError" in result.error and "line 2" in result.error
    assert llm.remaining == 1  # the LM was never asked
    assert not lm_events(result)


def test_statements_run_once_even_after_a_simulated_line(run_program):
    program = "log = []\nlog.append('side effect')\ntotal = legs of a spider plus legs of a dog\nanswer = (total, log)"
    result, _ = run_program(program, ["{'total': 12}"])
    assert result.success, result.error
    assert result.answer == [12, ["side effect"]]


def test_nested_calls_and_real_builtins(run_program):
    result, _ = run_program("answer = len(get_capital(get_country('Eiffel Tower')))", ["'France'", "'Paris'"])
    assert result.success, result.error
    assert result.answer == 5
    assert lm_expressions(result) == ["get_country('Eiffel Tower')", "get_capital('France')"]


def test_assignment_targets_tuple_subscript_attribute(run_program):
    program = ("a, (b, c) = 1, (2, 3)\nd = {}\nd['k'] = a + b\nclass Box:\n    pass\nbox = Box()\n"
               "box.v = c\nfirst, *rest = [4, 5, 6]\nanswer = [d['k'], box.v, first, rest]")
    result, _ = run_program(program)
    assert result.success, result.error
    assert result.answer == [3, 3, 4, [5, 6]]


def test_augmented_assignment_with_simulated_value(run_program):
    result, _ = run_program("total = 10\ntotal += count_legs('spider')\ntotal -= 1\nanswer = total", ["8"])
    assert result.success, result.error
    assert result.answer == 17


def test_comprehension_with_undefined_call(run_program):
    result, _ = run_program("xs = ['a', 'b', 'c']\nanswer = [x for x in xs if is_vowel(x)]", ["True", "False", "False"])
    assert result.success, result.error
    assert result.answer == ["a"]
    assert len(lm_expressions(result)) == 3


def test_syntax_invalid_pseudo_code_line_is_simulated_as_a_whole(run_program):
    program = "n = 3\nlegs = n times the legs of a cat\nanswer = legs + 1"
    result, _ = run_program(program, ["{'legs': 12}"])
    assert result.success, result.error
    assert result.answer == 13
    line_event = next(e for e in result.trace if e.line == 2)
    assert line_event.executor == "lm" and line_event.state_delta == {"legs": "12"}


def test_pseudo_code_block_header(run_program):
    program = "total = 0\nfor each fruit in the basket:\n    total = total + 1\nanswer = total"
    result, _ = run_program(program, ["{'fruit': 'apple'}"])
    assert result.success, result.error
    assert result.answer == 1


def test_function_bodies_run_per_statement(run_program):
    program = ("def score(word):\n    s = 0\n    if is_positive(word):\n        s = 1\n    return s\n"
               "answer = sum(score(w) for w in ['good', 'bad', 'great'])")
    result, _ = run_program(program, ["True", "False", "True"])
    assert result.success, result.error
    assert result.answer == 2
    assert [e.line for e in lm_events(result)] == [3, 3, 3]


def test_a_class_defined_inside_a_function_works_as_in_python(run_program):
    """A class body reads __module__ from its globals: inside a function those are the call's frame (found by the
    seventeenth session's red-team, where it was a NameError)."""
    program = ("def make(n):\n    class Box:\n        size = n\n    return Box\n"
               "answer = make(3).size + make(4).size")
    result, _ = run_program(program, [])
    assert result.success, result.error
    assert result.answer == 7


def test_while_break_continue_and_try_except(run_program):
    program = ("i = 0\nseen = []\nwhile True:\n    i += 1\n    if i % 2 == 0:\n        continue\n"
               "    if i > 7:\n        break\n    seen.append(i)\ntry:\n    x = seen[10]\nexcept IndexError:\n"
               "    x = -1\nfinally:\n    seen.append(0)\nanswer = (seen, x)")
    result, _ = run_program(program)
    assert result.success, result.error
    assert result.answer == [[1, 3, 5, 7, 0], -1]


def test_undefined_variable_line_goes_to_lm(run_program):
    result, _ = run_program("answer = number_of_planets + 1", ["{'answer': 9}"])
    assert result.success, result.error
    assert result.answer == 9


def test_coc_python_mode_does_not_simulate(run_program):
    result, llm = run_program("answer = is_fruit('apple')", ["True"], mode="coc-python")
    assert not result.success
    assert "is_fruit" in result.error
    assert llm.remaining == 1


def test_coc_lm_mode_simulates_the_whole_program(run_program):
    result, _ = run_program("x = 2\nanswer = x * 21", ["{'x': 2, 'answer': 42}"], mode="coc-lm")
    assert result.success, result.error
    assert result.answer == 42
    assert len(lm_events(result)) == 1


def test_malformed_lm_reply_retried_once_then_clear_failure(run_program):
    result, _ = run_program("answer = is_fruit('apple')", ["I think it is a fruit", "True"])
    assert result.success and result.answer is True
    result, _ = run_program("answer = is_fruit('apple')", ["yes, definitely", "still prose"])
    assert not result.success and result.error_kind == "simulation"
    assert "malformed" in result.error


def test_lm_reply_that_is_code_is_not_executed(run_program):
    result, _ = run_program("answer = is_fruit('apple')",
                            ["__import__('os').system('touch /tmp/pwned')", "open('/etc/passwd').read()"])
    assert not result.success and result.error_kind == "simulation"


def test_endless_loop_hits_statement_budget(run_program):
    result, _ = run_program("while True:\n    pass", max_statements=5000)
    assert not result.success and result.error_kind == "limit"
    assert "statement budget" in result.error


def test_a_with_block_runs_statement_by_statement(run_program):
    program = ("import decimal\nwith decimal.localcontext() as c:\n    c.prec = 3\n    fruit = is_fruit('apple')\n"
               "    third = str(decimal.Decimal(1) / decimal.Decimal(3))\nanswer = [fruit, third, "
               "str(decimal.Decimal(1) / decimal.Decimal(3))[:6]]")
    result, llm = run_program(program, ["True"])
    assert result.success, result.error
    assert result.answer == [True, "0.333", "0.3333"]  # the precision held inside the block only
    assert lm_expressions(result) == ["is_fruit('apple')"]  # the helper alone went to the LMulator
    lines = [e.line for e in result.trace if e.kind == "line"]
    assert {2, 3, 4, 5} <= set(lines)  # entering, and each line of the body, is its own step


def test_a_with_block_counts_against_the_statement_budget_and_exits_on_errors(run_program):
    looping = "import decimal\nwith decimal.localcontext():\n    while True:\n        pass"
    result, _ = run_program(looping, max_statements=5000, timeout_s=20)
    assert not result.success and result.error_kind == "limit" and "statement budget" in result.error
    failing = ("import decimal\nwith decimal.localcontext() as c:\n    c.prec = 2\n    x = 1 / 0\nanswer = 1")
    result, _ = run_program(failing)
    assert not result.success and "ZeroDivisionError" in result.error and "line 4" in result.error
    not_a_manager = "with 3:\n    x = 1\nanswer = x"
    result, _ = run_program(not_a_manager)
    assert not result.success and "context manager protocol" in result.error


def test_while_true_pass_times_out_within_limit(run_program):
    import time

    start = time.monotonic()
    result, _ = run_program("while True:\n    pass", max_statements=10**9, timeout_s=2)
    elapsed = time.monotonic() - start
    assert not result.success and result.error_kind == "limit"
    assert "timeout" in result.error
    assert elapsed < 5


def test_single_long_statement_times_out(run_program):
    result, _ = run_program("answer = sum(range(10**12))", timeout_s=2)
    assert not result.success and "timeout" in result.error


def test_lm_call_budget(run_program):
    result, _ = run_program("answer = [is_odd(i) for i in range(10)]", ["True"] * 10, max_lm_calls=3)
    assert not result.success and result.error_kind == "limit" and "LM call budget" in result.error


def test_program_without_answer_is_an_error(run_program):
    result, _ = run_program("x = 1")
    assert not result.success and "answer" in result.error


def test_empty_and_huge_questions_are_rejected():
    from coc_ros.engine.runner import Engine
    from coc_ros.llm.scripted import ScriptedLLM

    engine = Engine(ScriptedLLM([]))
    assert "empty" in engine.run("   ").error
    assert "too long" in engine.run("x" * 1_000_000).error


def test_unknown_mode_is_a_clear_error(run_program):
    result, _ = run_program("answer = 1", mode="telepathy")
    assert not result.success and "unknown mode" in result.error


def test_trace_events_are_numbered_and_closed(run_program):
    result, _ = run_program("answer = 1")
    assert [e.step for e in result.trace] == list(range(len(result.trace)))
    assert result.trace[0].kind == "run_start" and result.trace[-1].kind == "run_end"
    assert result.trace[-1].detail["success"] is True


def test_lm_events_carry_prompt_and_reply_ids(run_program):
    result, _ = run_program("answer = [is_even(2), is_even(3)]", ["True", "False"])
    assert result.success, result.error
    calls = [c for e in result.trace for c in e.detail.get("lm_calls", [])]
    assert len(calls) == 2
    assert all(len(c["prompt_id"]) == 12 and len(c["reply_id"]) == 12 for c in calls)
    assert calls[0]["prompt_id"] != calls[1]["prompt_id"]  # different calls, different prompts
    program_event = next(e for e in result.trace if e.kind == "program")
    assert program_event.detail["prompt_id"] and program_event.detail["reply_id"]


def test_allowlisted_stdlib_functions_with_lazy_imports_work(run_program):
    program = ("import datetime\nd = datetime.datetime.strptime('12/24/1937', '%m/%d/%Y')\n"
               "answer = (d - datetime.timedelta(days=10)).strftime('%m/%d/%Y')")
    result, _ = run_program(program)
    assert result.success, result.error
    assert result.answer == "12/14/1937"


def test_strings_with_escapes_and_codecs_work_in_the_sandbox(run_program):
    """The trace's source of an f-string with a newline is written by ast.unparse, which loads the unicode_escape
    codec lazily: the robot benchmark's sort_waste failed 3/3 with "import of 'encodings.unicode_escape' is not
    allowed" before that codec was preloaded."""
    program = ("items = ['can', '番茄']\nx = f'Recyclables: {items}\\nTrash: {len(items)}'\n"
               "b = 'caf\\u00e9'.encode('latin-1')\nanswer = [x, b.decode('latin-1'), 'abc'.encode('ascii')]")
    result, _ = run_program(program)
    assert result.success, result.error
    assert ast.literal_eval(result.answer) == ["Recyclables: ['can', '番茄']\nTrash: 2", "caf\u00e9", b"abc"]


def test_private_modules_cannot_be_imported_by_programs(run_program):
    for program in ("import _strptime\nanswer = 1", "from _strptime import _strptime_datetime\nanswer = 1",
                    "import json._x\nanswer = 1", "from json import _default_decoder\nanswer = 1"):
        result, _ = run_program(program)
        assert not result.success and result.error_kind == "sandbox", (program, result.error)
        assert "private" in result.error


def test_coc_lm_reply_without_answer_is_retried(run_program):
    result, _ = run_program("n = 2\nanswer = n + 1", ["{'n': 2}", "{'n': 2, 'answer': 3}"], mode="coc-lm")
    assert result.success, result.error
    assert result.answer == 3
