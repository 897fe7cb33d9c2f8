"""`Engine.run`: one question in, one RunResult out, every step reported as a TraceEvent on the way.

The engine owns the order of things (generate, then execute in the sandbox, then answer) and the accounting
(LM calls, tokens, limits). It never raises for a failed run: the failure is in the result and in the trace.
"""
from __future__ import annotations


import ast
import dataclasses
import json
import re
import threading
import time
import uuid
from typing import Any
from collections.abc import Callable

from coc_ros.engine.lmulator import LMulator, content_id, parse_literal
from coc_ros.core.answers import answer_text
from coc_ros.core.names import COLOUR_SPELLINGS, mentions_colour, resolution_options
from coc_ros.core.program import extract_program, parse_program
from coc_ros.engine.prompts import (
    COT_SYSTEM,
    DIRECT_SYSTEM,
    TRANSLATE_TOKENS,
    FewShot,
    asks_for_count,
    coc_messages,
    count_request,
    intent_messages,
    intent_request,
    looks_like_question,
    repair_request,
    review_messages,
    text_messages,
    translate_messages,
)
from coc_ros.engine.robot_prompts import (describe_place_colors, describe_seen, reads_as_english, with_notes, with_seen,
                                          with_translation)
from coc_ros.engine.shots import load_examples
from coc_ros.engine.techniques import Techniques
from coc_ros.engine.lmulator_protocol import SimReply, SimRequest, LMulatorProtocol
from coc_ros.engine.program_checks import (as_helpers, colour_conjuncts, escaped_apostrophes, impossible_comparisons,
                                           place_colours_used, quoted_variables, respelled, spaced_names, unquote,
                                           without_colour_tests, without_robot_stubs)
from coc_ros.core.types import (
    Canceled,
    CocError,
    LimitExceeded,
    Limits,
    Mode,
    ProgramError,
    RunResult,
    TraceEvent,
)
from coc_ros.llm.base import (ConstrainedDecoder, LLMClient, LLMError, Message, OptionScorer, ReplyScorer, Sampler,
                              ScoresUnavailable, supports)
from coc_ros.sandbox.host import SandboxRun, WorkerFailed
from coc_ros.sandbox.policy import check_program

GENERATION_TOKENS = {Mode.DIRECT: 96, Mode.COT: 512}
NONE_MEANT = "none of these"  # the option that lets the model say an unknown target means no place
MAX_REPAIR_ROUNDS = 2
# Failures the program writer can fix from the error message (a robot error, a real exception, an LMulator value
# the program could not use). Limits, cancel and sandbox violations end the goal as they are.
REPAIRABLE = frozenset({"program", "simulation", "error"})
PROGRAM_TOKENS = 640
RERANK_SAMPLES = 2  # programs drawn beside the greedy one for a robot goal (technique `rerank`)
RERANK_TEMPERATURE = 0.7
REDRAW_SEEDS = (1, 2)  # fresh programs drawn, at most, after a re-prompted program also moved nothing (`redraw`)
REDRAW_TEMPERATURE = 0.8
_ANSWER_RE = re.compile(r"(?:the answer is|answer:)\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def _code_of(program: str) -> str:
    """A program's syntax tree (comments and layout left out), to tell a real change from a copy."""
    try:
        return ast.dump(ast.parse(program))
    except (SyntaxError, RecursionError, MemoryError):  # deep nesting fails in the worker with a clear error
        return program.strip()


def _check_no_shadowing(tree: ast.AST, functions: frozenset[str]) -> None:
    """A program must call the robot's functions, not define its own with the same names (measured: a repaired
    program defined `pick_place` to print and `detect_objects` to return a list it made up, so nothing moved).
    With the program checks on, top-level stubs were removed before this (`without_robot_stubs`); what is left
    here (an assignment, a definition inside a function or class) goes to repair."""
    defined = sorted({node.name for node in ast.walk(tree)
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in functions}
                     | {node.id for node in ast.walk(tree)
                        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in functions})
    if defined:
        them = "it" if len(defined) == 1 else "them"
        raise ProgramError(f"the program defines {', '.join(defined)}, which the robot provides: call {them}, "
                           f"do not define or assign {them}")


def _with_note(exc: CocError, note: str) -> CocError:
    """The same error (same kind) with a note added to its message."""
    err = CocError(f"{exc}; {note}")
    err.kind = exc.kind
    return err


def _failing_line(error: str, program: str) -> str:
    """The program line an error names ('line 6: ...'), or '' when it names none."""
    match = re.match(r"line (\d+):", error)
    lines = program.splitlines()
    if match and 1 <= int(match.group(1)) <= len(lines):
        return lines[int(match.group(1)) - 1].strip()
    return ""


def extract_text_answer(text: str) -> str:
    """The final answer of a direct/CoT reply: the last 'the answer is X' / 'Answer: X', else the last line."""
    matches = _ANSWER_RE.findall(text)
    if matches:
        answer = matches[-1]
    else:
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        answer = lines[-1] if lines else ""
    return answer.strip().rstrip(".").strip("*").strip()


class Engine:
    """Chain of Code over an LLM, a LMulatorProtocol (LMulator) and optionally a robot."""

    def __init__(self, llm: LLMClient, *, simulator: LMulatorProtocol | None = None, robot: Any | None = None,
                 limits: Limits | None = None, techniques: Techniques | None = None):
        self.llm = llm
        self.simulator = simulator or LMulator(llm)
        self.robot = robot
        self.limits = limits or Limits()
        self.techniques = techniques or Techniques()

    def run(self, question: str, mode: str | Mode = Mode.COC_INTERWEAVE, *,
            on_event: Callable[[TraceEvent], None] | None = None, cancel: threading.Event | None = None,
            run_id: str | None = None, fewshot: FewShot | None = None, timeout_s: float | None = None) -> RunResult:
        run = _Run(self, question, run_id or uuid.uuid4().hex[:12], on_event, cancel or threading.Event(),
                   fewshot or FewShot(), timeout_s or self.limits.timeout_s)
        return run.execute(mode)


class _Run:
    """The state of one run (kept off the Engine so one engine can serve runs one after another)."""

    def __init__(self, engine: Engine, question: str, run_id: str, on_event: Callable[[TraceEvent], None] | None,
                 cancel: threading.Event, fewshot: FewShot, timeout_s: float):
        self.engine = engine
        self.question = question
        self.on_event = on_event
        self.cancel = cancel
        self.fewshot = fewshot
        self.start = time.monotonic()
        self.deadline = self.start + timeout_s
        self.timeout_s = timeout_s
        self.last_exchange: dict[str, Any] = {}
        self.asks_to_act: bool | None = None  # the intent check's reading of the instruction, asked once per run
        self.memo: dict[tuple[str, str, str], SimReply] = {}  # pure helper calls answered once per run
        self.meant: dict[tuple[str, tuple[str, ...]], str | None] = {}  # unknown targets resolved once per run
        self.places: list[str] | None = None  # the robot's places, asked once per run (None without a robot)
        self.check_values = False  # whether programs are checked against the camera's values before they run
        self.program_started = 0  # where the trace of the program that runs now begins
        self.names_colour: bool | None = None  # whether the instruction names a colour, read once per run
        self.english: str | None = None  # the instruction in English (the model's translation), made once per run
        self.result = RunResult(run_id=run_id, question=question if len(question) <= 2000 else question[:2000] + "...",
                                mode="", success=False)

    # ------------------------------------------------------------------------------------------------- events
    def emit(self, kind: str, executor: str, **fields: Any) -> TraceEvent:
        event = TraceEvent(run_id=self.result.run_id, step=len(self.result.trace), kind=kind, executor=executor,
                           **fields)
        self.result.trace.append(event)
        if self.on_event is not None:
            self.on_event(event)
        return event

    # ------------------------------------------------------------------------------------------------- flow
    def execute(self, mode_value: str | Mode) -> RunResult:
        r = self.result
        try:
            mode = Mode.parse(mode_value)
            r.mode = mode.value
            self.emit("run_start", "system", detail={"question": r.question, "mode": mode.value,
                                                      "llm": getattr(self.engine.llm, "name", "?")})
            self._validate_question()
            if mode in (Mode.DIRECT, Mode.COT):
                self._answer_in_text(mode)
            else:
                try:
                    self._chain_of_code(mode)
                finally:  # a count re-ask holds the robot still for its own program only, however the goal ends
                    if self.engine.robot is not None:
                        self.engine.robot.hold_still = False
            r.success = True
        except CocError as exc:
            r.error, r.error_kind = str(exc), exc.kind
        except ValueError as exc:  # bad arguments such as an unknown mode
            r.error, r.error_kind = str(exc), "invalid_argument"
        except RecursionError:  # the host's own AST passes (usage analysis, checks) on a deeply nested program
            r.error, r.error_kind = "the program is nested too deeply to analyse", "program"
        if r.error:
            self.emit("error", "system", detail={"error": r.error, "error_kind": r.error_kind})
        r.seconds = time.monotonic() - self.start
        self.emit("run_end", "system", duration=r.seconds, detail={
            "success": r.success, "answer": r.answer, "error": r.error, "error_kind": r.error_kind,
            "lm_call_count": r.lm_calls, "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens})
        return r

    def _validate_question(self) -> None:
        q = self.question
        if not isinstance(q, str) or not q.strip():
            raise CocError("empty instruction: tell the robot what to do")
        limit = self.engine.limits.max_question_chars
        if len(q) > limit:
            raise CocError(f"instruction too long: {len(q)} characters (limit {limit})")

    def _check(self) -> None:
        if self.cancel.is_set():
            raise Canceled("canceled")
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"timeout: the run exceeded its wall-clock limit of {self.timeout_s:g} s")

    def _llm_call(self, call: Callable[[], Any]) -> Any:
        """One LLM call that counts against the budget and honours cancel/timeout while it runs. A backend that
        lacks an optional capability raises ScoresUnavailable, which the caller handles; any other failure ends
        the goal as an LLM error."""
        self._check()
        self._count_lm_call()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = call()
            except Exception as exc:
                box["error"] = exc

        thread = threading.Thread(target=run, daemon=True, name="coc-llm")
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
            self._check()
        if "error" in box:
            exc = box["error"]
            if isinstance(exc, ScoresUnavailable):
                raise exc
            if isinstance(exc, LLMError):
                raise CocError(f"LLM error: {exc}")
            raise CocError(f"LLM error: {type(exc).__name__}: {exc}")
        return box["value"]

    def _complete(self, messages: list[Message], max_tokens: int) -> str:
        """A greedy completion (see _llm_call), its tokens counted and its exchange kept for the trace."""
        completion = self._llm_call(lambda: self.engine.llm.complete(messages, max_tokens=max_tokens))
        self.result.prompt_tokens += completion.prompt_tokens
        self.result.completion_tokens += completion.completion_tokens
        self.last_exchange = {"prompt_id": content_id(json.dumps(messages)), "reply_id": content_id(completion.text),
                              "prompt_tokens": completion.prompt_tokens,
                              "completion_tokens": completion.completion_tokens,
                              "cached_tokens": completion.cached_tokens,
                              "prefill_s": round(completion.prefill_s, 3),
                              "generation_s": round(completion.generation_s, 3)}
        return completion.text

    def _count_lm_call(self) -> None:
        """The run's LM budget counts every call: program generation, direct/CoT answers and LMulator calls.
        (The sandboxed interpreter also stops at the same number of LMulator calls, in case a host forgets.)"""
        self.result.lm_calls += 1
        limit = self.engine.limits.max_lm_calls
        if self.result.lm_calls > limit:
            raise LimitExceeded(f"LM call budget exceeded: more than {limit} LM calls (generation + LMulator)")

    def _answer_in_text(self, mode: Mode) -> None:
        fewshot = self.fewshot.cot_prompt if mode == Mode.COT else self.fewshot.direct_prompt
        system = COT_SYSTEM if mode == Mode.COT else DIRECT_SYSTEM
        start = time.monotonic()
        text = self._complete(text_messages(self.question, system, fewshot, cot=mode == Mode.COT),
                              GENERATION_TOKENS[mode])
        self.result.completion = text
        self.result.answer = extract_text_answer(text)
        self.emit("answer", "lm", source=text[-500:], duration=time.monotonic() - start,
                  state_delta={"answer": repr(self.result.answer)}, detail={"completion": text, **self.last_exchange})

    def _chain_of_code(self, mode: Mode) -> None:
        """Write a program and run it; on a robot goal, repair it from exact errors and check it acted."""
        robot = self.engine.robot
        techniques = self.engine.techniques
        if mode == Mode.COC_PYTHON:  # the paper's "Python only" baseline: one program, run as written
            techniques = dataclasses.replace(techniques, repair=False, intent_check=False)
        places = self.places = robot.places() if robot is not None else None
        self.check_values = robot is not None and techniques.repair
        kinds = frozenset({"count"}) if (robot is not None and techniques.kind_shots
                                          and asks_for_count(self.question)) else frozenset()
        examples = list(self.fewshot.coc_examples) or list(
            load_examples("robot_examples" if robot is not None else "general_examples", kinds))
        seen = self._seen() if robot is not None else ""
        question = self.question
        if robot is not None and techniques.translate:
            english = self._english()
            if english is not self.question:
                question = with_translation(question, english)
        messages = coc_messages(with_seen(question, seen), examples, places)
        if robot is not None:
            robot.on_grounding = lambda fix: self.emit("grounding", "system", detail=fix)
            robot.resolve_target = (self._resolve_target if techniques.repair and techniques.grammar
                                    and supports(self.engine.llm, ConstrainedDecoder) else None)
        self._write_program(messages)
        if robot is not None and techniques.rerank and mode == Mode.COC_INTERWEAVE:
            self._rerank(messages)
        first_messages = messages  # the writer's prompt before any repair or re-prompt, for a fresh draw
        unmoved: set[str] = set()  # syntax trees of the programs that ran and moved nothing
        repairs = intent_retries = count_retries = 0
        counted_from: tuple[str, Any] = ("", None)  # program and answer before the re-ask for a number
        failed: dict[str, CocError] = {}  # syntax tree of each program that failed -> its error
        while True:
            try:
                copied = failed.get(_code_of(self.result.program))
                if copied is not None:
                    # Greedy decoding often answers a repair request with the failed program unchanged (measured
                    # on the dev split: colour_match came back identical twice). Running it again would only
                    # repeat the error, so the round is spent on asking again with the copy pointed out.
                    raise _with_note(copied, "your corrected program was the same program again: change the part "
                                             "that causes this error")
                self._execute_program(mode)
            except CocError as exc:
                if count_retries:  # the goal's motions were made: a failed re-ask for the number leaves them be
                    if exc.kind not in REPAIRABLE:  # cancel, a limit, the sandbox: the goal ends with that error
                        raise
                    self._keep_first_answer(counted_from, exc)
                    return
                if not (robot is not None and techniques.repair and exc.kind in REPAIRABLE
                        and repairs < MAX_REPAIR_ROUNDS):
                    raise
                failed.setdefault(_code_of(self.result.program), exc)
                repairs += 1
                feedback = repair_request(self.question, str(exc), robot.object_names(), places or [], robot.done,
                                          failing_line=_failing_line(str(exc), self.result.program))
                self.emit("repair", "generator", detail={"round": repairs, "error": str(exc)[:1000]})
                messages = messages + [{"role": "assistant", "content": f"```python\n{self.result.program}\n```"},
                                       {"role": "user", "content": feedback}]
                self._write_program(messages)
                continue
            if robot is not None and techniques.intent_check and (robot.motions or robot.done):
                if count_retries:  # asked once already: what the goal says now is final
                    if self._misses_count():
                        self._tell_motions_made()
                    return
                if not self._misses_count():
                    return
                # Measured on the seen splits: "...and tell me how many" answered with answer = 'done' after the
                # right motions. Asked once more, with the motions made; these are never repeated.
                count_retries += 1
                counted_from = (self.result.program, self.result.answer)
                robot.hold_still = True
                feedback = count_request(self.question, robot.done)
                self.emit("intent", "system", detail={"message": feedback, "check": "count"})
                messages = messages + [{"role": "assistant", "content": f"```python\n{self.result.program}\n```"},
                                       {"role": "user", "content": feedback}]
                try:
                    self._write_program(messages)
                except CocError as exc:
                    self._keep_first_answer(counted_from, exc)
                    return
                continue
            if robot is None or not techniques.intent_check or not self._asks_to_act():
                return
            unmoved.add(_code_of(self.result.program))
            if intent_retries >= 1:
                drawn = self._redraw(first_messages, unmoved) if techniques.redraw and intent_retries == 1 else None
                if drawn is None:
                    err = CocError("the instruction asks the robot to act, but the program made no robot motion "
                                   "(pick_place/move_to), also after being asked again"
                                   + (" and in a freshly drawn program" if intent_retries > 1 else ""))
                    err.kind = "intent"
                    raise err
                intent_retries += 1
                messages = drawn
                continue
            intent_retries += 1
            feedback = with_notes(intent_request(self.question), self._copied_place_colours() + self._tests_answered())
            self.emit("intent", "system", detail={"message": feedback})
            messages = messages + [{"role": "assistant", "content": f"```python\n{self.result.program}\n```"},
                                   {"role": "user", "content": feedback}]
            self._write_program(messages)

    def _draw_program(self, messages: list[Message], temperature: float, seed: int) -> tuple[str, str, bool]:
        """One sampled (seeded) program, its tokens counted in the run's totals: the reply, the program in it, and
        whether that program can run at all (not empty, not over the length limit)."""
        completion = self._llm_call(lambda: self.engine.llm.sample(
            messages, max_tokens=PROGRAM_TOKENS, temperature=temperature, seed=seed))
        self.result.prompt_tokens += completion.prompt_tokens
        self.result.completion_tokens += completion.completion_tokens
        program = extract_program(completion.text)
        return completion.text, program, bool(program.strip()) and len(program) <= self.engine.limits.max_program_chars

    def _redraw(self, messages: list[Message], unmoved: set[str]) -> list[Message] | None:
        """A fresh program for a goal whose program, also when re-prompted, moved nothing: drawn (seeded, at
        REDRAW_TEMPERATURE) from the writer's first prompt, not from the conversation about the failed program,
        which the 1.5B writer answers with the same program or the same wrong test (`is_nut(obj)` for "anything with
        nuts", every object answered No). A draw that is one of the programs that already moved nothing is drawn
        again, with the next seed. Nothing has moved, so the new program starts from the world as it was; memoized
        answers stay. Returns the conversation to continue (for repair), or None where the backend cannot sample
        or every draw was a program already run."""
        llm = self.engine.llm
        if not supports(llm, Sampler):
            return None
        for seed in REDRAW_SEEDS:
            start = time.monotonic()
            try:
                text, program, usable = self._draw_program(messages, REDRAW_TEMPERATURE, seed)
            except ScoresUnavailable:
                return None
            fresh = usable and _code_of(program) not in unmoved
            self.emit("intent", "generator", source=program, duration=time.monotonic() - start,
                      detail={"check": "redraw", "seed": seed, "temperature": REDRAW_TEMPERATURE,
                              "used": fresh, "completion": text})
            if fresh:
                self.result.program, self.result.completion = program, text
                self.emit("program", "generator", source=program, detail={"completion": text,
                                                                          "drawn": True, "seed": seed})
                return messages
        return None

    def _rerank(self, messages: list[Message]) -> None:
        """Draw RERANK_SAMPLES more programs and keep the one that best explains the instruction: the highest
        log p(instruction | program) under a reviewer prompt (Coder-Reviewer reranking, Zhang et al. 2022). The
        1.5B writer's greedy program often tests something the instruction never asked (`is_flying(obj)` for
        "they knock everything flying ... anything that would smash"); a program that tests what was asked makes
        the instruction more likely. A backend that cannot sample or score whole replies keeps the greedy
        program. Nothing has run yet, so choosing another program repeats no motion. Opt-in: with the 1.5B model
        the reviewer also rewards programs that restate more of the instruction (a hard-coded recipe list, one more
        helper to decide), and on the dev split it was no gain at twice the time (README, twelfth session)."""
        llm = self.engine.llm
        if not (supports(llm, Sampler) and supports(llm, ReplyScorer)):
            return
        candidates = {_code_of(self.result.program): self.result.program}
        try:
            for seed in range(1, RERANK_SAMPLES + 1):
                _, program, usable = self._draw_program(messages, RERANK_TEMPERATURE, seed)
                if usable:
                    candidates.setdefault(_code_of(program), program)
            if len(candidates) < 2:
                self.emit("rerank", "generator", source=self.result.program,
                          detail={"chosen": 0, "candidates": [{"program": self.result.program}],
                                  "note": "every sampled program was the greedy one"})
                return
            scored = [(self._llm_call(lambda p=p: llm.reply_logprob(review_messages(p), self.question)), p)
                      for p in candidates.values()]
        except ScoresUnavailable:
            return
        chosen = max(range(len(scored)), key=lambda i: scored[i][0])  # the first best: greedy wins a tie
        self.result.program = scored[chosen][1]
        self.emit("rerank", "generator", source=self.result.program, detail={
            "chosen": chosen, "candidates": [{"program": p, "review_logprob": round(v, 3)} for v, p in scored]})

    def _resolve_target(self, given: str, places: list[str]) -> str | None:
        """Which of `places` an unknown pick_place target means, decided by the model under a grammar of them
        and 'none of these' (None: the error stands and goes to repair). Measured on the dev tasks: the 1.5B
        writer's repaired programs repeat the failing name ('bin', '碗'), while one constrained choice with the
        instruction in front of it costs about a second. Asked once per run and target: `else: pick_place(obj,
        'out')` asks about 'out' for every object it leaves."""
        key = (given, tuple(places))
        if key not in self.meant:
            self.meant[key] = self._ask_target(given, places)
        return self.meant[key]

    def _ask_target(self, given: str, places: list[str]) -> str | None:
        options = places + [NONE_MEANT]
        self._count_lm_call()
        try:
            reply = self.engine.simulator.simulate(SimRequest(
                run_id=self.result.run_id, question=self.question, program=self.result.program, line=0,
                source=f"pick_place(obj, {given!r})", kind="call", expression=f"place_meant_by({given!r})", state={},
                hints={"decision": "name", "helper": "place_meant_by", "args": [given], "options": options,
                       "grammar": True, "describe": False, "seen": self._seen_for_places(given)}))
            meant = parse_literal(reply.value, "call")
        except (CocError, ValueError):
            return None
        return meant if meant in places else None

    def _check_perception_values(self) -> None:
        """A comparison of get_color/get_shape with a value the camera never reports is a bug Python cannot see
        (measured: `get_color(obj) != 'sweet'` moved every object, `get_shape(obj) == 'round'` none). A colour the
        camera spells otherwise ('grey' for 'gray') is written its way; one value compared directly becomes the
        helper it means (each recorded as a grounding event); anything else goes to repair before any motion, with
        the values that exist."""
        seen = self.engine.robot.seen()
        colours, labels = {d.color for d in seen if d.color}, {d.class_id for d in seen if d.class_id}
        # Pseudo-code lines are markers in the parsed tree; every other line keeps its text and offsets, so edits
        # made from the tree apply to the program as written. The program is parsed again only after an edit.
        tree = parse_program(self.result.program).tree
        tree = self._rewritten(respelled(self.result.program, tree, colours), "spelling", tree)
        tree = self._rewritten(as_helpers(self.result.program, tree, colours, labels), "helper", tree)
        found = colour_conjuncts(tree)
        if found and not self._names_colour():
            tree = self._rewritten(without_colour_tests(self.result.program, found), "unasked colour", tree)
        problems = impossible_comparisons(tree, colours, labels)
        if problems:
            raise ProgramError("; ".join(problems))

    def _rewritten(self, edited: tuple[str, list[dict[str, Any]]], by: str, tree: ast.Module) -> ast.Module:
        """Take a program check's edited program, record each edit as a grounding event, and return the tree of the
        program now to run (the given one when the check changed nothing)."""
        program, records = edited
        if not records:
            return tree
        self.result.program = program
        for record in records:
            self.emit("grounding", "system", line=record["line"], detail={
                "skill": "program", "given": record["given"], "grounded": record["grounded"], "by": by})
        return parse_program(program).tree

    def _fix_syntax_slips(self) -> None:
        """Two slips that turn a line of code into pseudo-code the LMulator cannot answer usefully, fixed in the
        program text (a grounding event each): an apostrophe in a single-quoted string (`'the box that's blue'`,
        `by: apostrophe`) and a variable named in several words (`to compost = []`, `by: identifier`)."""
        fixed, lines = escaped_apostrophes(self.result.program)
        if lines:
            self.result.program = fixed
            for line in lines:
                self.emit("grounding", "system", line=line, detail={
                    "skill": "program", "given": "'", "grounded": "\\'", "by": "apostrophe"})
        fixed, names = spaced_names(self.result.program)
        if names:
            self.result.program = fixed
            for name in names:
                self.emit("grounding", "system", detail={"skill": "program", "given": name.replace("_", " "),
                                                         "grounded": name, "by": "identifier"})

    def _unquote_variables(self, tree: ast.AST) -> None:
        """`pick_place('vegetables', 'fridge_tray')` after `vegetables = [...]`: the writer quoted its own list
        (measured on the sealed split; the repaired programs kept the quotes). The fix is unambiguous, so it is
        made in the program text and recorded as a grounding event, like a fixed name."""
        constants = quoted_variables(tree, {"pick_place"})
        if not constants:
            return
        fixed = unquote(self.result.program, constants)
        try:
            parse_program(fixed)
        except SyntaxError:
            return
        self.result.program = fixed
        for node in constants:
            self.emit("grounding", "system", line=node.lineno, detail={
                "skill": "pick_place", "given": repr(node.value), "grounded": node.value, "by": "variable"})

    def _copied_place_colours(self) -> list[str]:
        """Notes for the intent re-prompt when a program that moved nothing chose objects by a colour in a
        place's name: the colour describes where things go, not which things (measured on the blind split:
        'the crate that's the colour of blueberries' became `get_color(obj) == 'blue'`)."""
        try:
            tree = parse_program(self.result.program).tree
        except SyntaxError:
            return []
        return [f"{colour!r} is the colour of the place {place}, where things go; it does not say which objects "
                f"to move, so do not select objects with get_color(obj) == {colour!r}"
                for colour, place in place_colours_used(tree, self.places or [])]

    def _tests_answered(self) -> list[str]:
        """Notes for the intent re-prompt: what each yes/no test of the program that moved nothing answered, per
        object. Measured on the headline records: every one of the 57 runs that failed the intent check had a
        pick_place under a test that no object passed, mostly a helper named for something the instruction never
        asked (`is_metal(obj) and is_locked(obj)` for "anything that would poison them"); told only that nothing
        moved, the writer mostly returned the same program. What its tests said is the evidence it lacked
        (execution feedback, as in Self-Debugging, Chen et al. 2023)."""
        answered: dict[str, dict[str, bool]] = {}
        for event in self.result.trace[self.program_started:]:
            for call in (event.detail or {}).get("lm_calls", []):
                args = call.get("args") or []
                if call.get("decision") == "bool" and len(args) == 1 and isinstance(args[0], str):
                    answered.setdefault(str(call.get("helper")), {})[args[0]] = call.get("value") == "True"
        notes = []
        for helper, values in answered.items():
            yes = [obj for obj, value in values.items() if value]
            no = [obj for obj, value in values.items() if not value]
            notes.append(f"{helper}(obj) answered True for {', '.join(yes)} and False for {', '.join(no) or 'none'}"
                         if yes else f"{helper}(obj) answered False for every object it was asked about "
                                     f"({', '.join(no)})")
        if notes:
            notes.append("so no object passed your program's tests: test the property the instruction asks about, "
                         "and nothing it does not ask")
        return notes

    def _seen(self) -> str:
        """What the camera reports, as the program writer and the name decisions are shown it."""
        return describe_seen([(d.id, d.color, d.class_id) for d in self.engine.robot.seen()])

    def _seen_for_places(self, about: str) -> str:
        """The camera's view, plus the places' colours for a description that speaks of colour ('the crate the colour
        of grass' needs to know which crate is green). Measured on the dev split: listed for every choice among
        places, the colours turned the 1.5B model's right answers for '碗' and 'the grass-coloured container' (where
        green_bin's name already says it) into wrong ones, so they are given only when asked about and only where
        they add to a place's name."""
        colours = self.engine.robot.place_colors() if mentions_colour(about) else {}
        return self._seen() + describe_place_colors(colours, self.places or [])

    def _names_colour(self) -> bool:
        """Whether the instruction names a colour: in the languages the robot knows colour words in, or else in its
        English (read once per run, recorded in the trace)."""
        if self.names_colour is None:
            self.names_colour = mentions_colour(self.question)
            if not self.names_colour:
                english = self._english()
                self.names_colour = mentions_colour(english)
                self.emit("colour", "system", detail={"translation": english[:500], "names_colour": self.names_colour})
        return self.names_colour

    def _english(self) -> str:
        """The instruction in English: itself when it reads as English, else the model's translation, made once per
        run and recorded as a `translation` trace event."""
        if self.english is None:
            if reads_as_english(self.question):
                self.english = self.question
            else:
                start = time.monotonic()
                self.english = " ".join(self._complete(translate_messages(self.question), TRANSLATE_TOKENS).split())
                self.emit("translation", "lm", source=self.english[:2000], duration=time.monotonic() - start,
                          detail={"instruction": self.question[:2000], **self.last_exchange})
        return self.english

    def _asks_to_act(self) -> bool:
        """Whether the instruction asks for motion (not only an answer): the model's Yes/No log-odds where the
        backend gives them, else the instruction's form (a question asks for an answer)."""
        if self.asks_to_act is None:
            self.asks_to_act = self._reads_as_request_to_act()
        return self.asks_to_act

    def _reads_as_request_to_act(self) -> bool:
        if supports(self.engine.llm, OptionScorer):
            self._count_lm_call()
            try:
                scores = self.engine.llm.score_options(intent_messages(self.question), ["Yes", "No"])
            except ScoresUnavailable:
                return not looks_like_question(self.question)
            except LLMError as exc:
                raise CocError(f"LLM error during the intent check: {exc}") from None
            return scores["Yes"] > scores["No"]
        return not looks_like_question(self.question)

    def _keep_first_answer(self, counted_from: tuple[str, Any], exc: CocError) -> None:
        """The re-ask for a number failed: the goal ends as the first program left it (its motions were made)."""
        self.result.program, self.result.answer = counted_from
        self.emit("intent", "system", detail={"check": "count", "error": str(exc)[:1000]})
        if self._misses_count():
            self._tell_motions_made()

    def _tell_motions_made(self) -> None:
        """Asked how many, the program still said no number (measured: the 1.5B writer re-asked for the number
        returned `answer = 'done'` again). The robot says so, and gives the one number the engine knows for certain,
        as what it is: how many objects this goal moved, which may not be what was asked ("how many went in the
        trash?" when some went to the compost bin)."""
        robot = self.engine.robot
        moved = list(dict.fromkeys(obj for obj, _ in robot.done))
        message = (f"My program gave no number for how many. I moved {len(moved)} object"
                   f"{'' if len(moved) == 1 else 's'}" + (f": {', '.join(moved)}." if moved else "."))
        robot.said.append(message)
        self.emit("intent", "system", detail={"check": "count", "said": message})

    def _misses_count(self) -> bool:
        """Whether the goal asks how many and neither the answer nor anything said holds a number."""
        told = " ".join([answer_text(self.result.answer), *self.engine.robot.said])
        return asks_for_count(self.question) and not re.search(r"\d", told)

    def _write_program(self, messages: list[Message]) -> None:
        r = self.result
        start = time.monotonic()
        completion = self._complete(messages, PROGRAM_TOKENS)
        r.completion = completion
        r.program = extract_program(completion)
        if len(r.program) > self.engine.limits.max_program_chars:
            raise CocError(f"generated program too long: {len(r.program)} characters")
        self.emit("program", "generator", source=r.program, duration=time.monotonic() - start,
                  detail={"completion": completion, **self.last_exchange})
        if not r.program.strip():
            raise CocError("the model wrote no program (empty completion)")

    def _execute_program(self, mode: Mode) -> None:
        r = self.result
        if self.check_values:
            self._fix_syntax_slips()
        try:
            parsed = parse_program(r.program)
        except SyntaxError as exc:
            if mode == Mode.COC_PYTHON:
                raise CocError(f"program does not parse: {exc}") from None
            parsed = None  # nothing Python can run: the LM simulates the whole program
        if mode == Mode.COC_LM or parsed is None:
            self._simulate_program()
            return
        self.program_started = len(r.trace)
        tree = parsed.tree
        if self.engine.robot is not None and self.check_values:
            tree = self._rewritten(without_robot_stubs(r.program, tree, self.engine.robot.functions), "robot stub",
                                   tree)
        check_program(tree)  # static sandbox check, also done by the worker; fail before starting it
        if self.engine.robot is not None:
            _check_no_shadowing(tree, self.engine.robot.functions)
        if self.check_values:
            self._unquote_variables(tree)
            self._check_perception_values()
        self._run_in_sandbox(mode)

    def _simulate(self, kind: str, line: int, source: str, expression: str, state: dict[str, str],
                  hints: dict[str, Any] | None = None) -> SimReply:
        hints = self._ground_hints(dict(hints or {})) if kind == "call" else {}
        perceived = self._perceived(hints) if kind == "call" else None
        if perceived is not None:
            return perceived
        memo_key = (kind, expression, hints.get("decision", ""))
        if kind == "call" and self.engine.techniques.memoize and memo_key in self.memo:
            cached = self.memo[memo_key]
            return dataclasses.replace(cached, prompt_tokens=0, completion_tokens=0,
                                       detail={**cached.detail, "memo": True})
        self._count_lm_call()
        reply = self.engine.simulator.simulate(SimRequest(
            run_id=self.result.run_id, question=self.question, program=self.result.program, line=line,
            source=source, kind=kind, expression=expression, state=state, hints=hints))
        self.result.prompt_tokens += reply.prompt_tokens
        self.result.completion_tokens += reply.completion_tokens
        if kind == "call":
            self.memo[memo_key] = reply
        return reply

    def _perceived(self, hints: dict[str, Any]) -> SimReply | None:
        """`is_red('tomato_1')`, `is_cylinder('soda_can')`: a truth-valued helper that names a colour or label the
        camera reports for this scene is answered by the camera, which knows, not by the LM, which may not
        (measured: the 1.5B model called every cube 'not a block'). No LM call is counted."""
        robot = self.engine.robot
        helper, args = str(hints.get("helper", "")), list(hints.get("args") or [])
        words = helper.split("_")
        if (robot is None or hints.get("decision") != "bool" or len(words) < 2 or words[0] not in ("is", "are")
                or len(args) != 1 or not isinstance(args[0], str)):
            return None
        seen = {d.id: d for d in robot.seen()}
        detection = seen.get(args[0])
        if detection is None:
            return None
        word = "_".join(words[1:])
        word = COLOUR_SPELLINGS.get(word, word)  # is_grey: the camera's 'gray'
        if detection.color and word in {d.color for d in seen.values() if d.color}:
            value, source = detection.color == word, "color"
        elif detection.class_id and word in {d.class_id for d in seen.values() if d.class_id}:
            value, source = detection.class_id == word, "label"
        else:
            return None  # the camera says nothing about it (or reported no colour for this object): ask the LM
        return SimReply(value=repr(value), detail={"decision": "bool", "helper": helper, "args": args,
                                                   "perceived": source})

    def _ground_hints(self, hints: dict[str, Any]) -> dict[str, Any]:
        """Add what only the host knows: the names that exist (for names) and the scene's objects (peers for
        calibration), plus the technique switches."""
        techniques = self.engine.techniques
        hints["calibrate"] = techniques.calibrate
        hints["gap_threshold"] = techniques.gap_threshold
        hints["describe"] = techniques.describe
        hints["both_prompts"] = techniques.both_prompts
        hints["grammar"] = techniques.grammar
        robot = self.engine.robot
        if robot is None:
            if hints.get("decision") in ("name", "names"):
                hints["decision"] = "free"
            return hints
        if hints.get("decision") in ("name", "names"):
            # A value passed as a pick_place target is a place when the robot has places (measured: with the
            # objects among the options, find_container('the tray the same colour as the eraser') gave 'eraser').
            # The camera's view goes with it: a place described by colour or kind needs the objects' colours.
            objects = robot.object_names()
            hints["options"] = objects if hints.get("role") == "object" else (self.places or objects)
            about = " ".join(str(a) for a in hints.get("args") or [])
            if hints["options"] == self.places:
                # The places the description's own words (and colours, in any listed language) leave, as the robot
                # API grounds a pick_place target: find_container('giallo') is the one yellow place, 'the tray that's
                # only for staff' one of the trays. A colour no place has leaves the choice among all places.
                hints["seen"] = self._seen_for_places(about)
                hints["options"] = resolution_options(about, self.places, robot.place_colors()) or self.places
            else:
                hints["seen"] = self._seen()
        objects = robot.detected  # peers only from what the program already looked at: no extra camera call
        args = hints.get("args") or []
        if hints.get("decision") in ("bool", "choice") and args and args[0] in objects:
            hints["peers"] = objects
        return hints

    def _simulate_program(self) -> None:
        start = time.monotonic()
        reply = self._simulate("program", 0, "<whole program>", "", {})
        values = parse_literal(reply.value, "program")
        self.result.answer = values.get("answer")
        self.result.final_state = {str(k): repr(v) for k, v in values.items()}
        self.emit("line", "lm", line=0, source="<whole program simulated>", duration=time.monotonic() - start,
                  state_delta=self.result.final_state, detail={"lm_calls": [{
                      "expression": "<program>", "value": reply.value[:500], "prompt_id": reply.prompt_id,
                      "reply_id": reply.reply_id}]})

    def _run_in_sandbox(self, mode: Mode) -> None:
        r = self.result
        robot = self.engine.robot

        def on_worker_event(message: dict[str, Any]) -> None:
            fields = {k: message[k] for k in ("line", "source", "state_delta", "duration", "detail") if k in message}
            if message.get("kind") == "sandbox":  # the worker says which isolation layers are missing
                r.missing_layers = [layer.get("name", "?") for layer in message.get("detail", {}).get("isolation", [])
                                    if not layer.get("active")]
            self.emit(message.get("kind", "line"), message.get("executor", "python"), **fields)

        def simulate(message: dict[str, Any]) -> dict[str, Any]:
            reply = self._simulate(message["kind"], message["line"], message["source"], message["expression"],
                                   message["state"], message.get("hints"))
            # A memoized or camera-answered call cost no LM call, so the worker and the host do not count it
            # against the LM budget either (measured on the yard split: a program that repeated its elif tests
            # ended with "more than 64 LMulator calls" after 14 model calls; the other 50 were answered from memo).
            return {"value": reply.value, "prompt_id": reply.prompt_id, "reply_id": reply.reply_id,
                    "detail": reply.detail, "model": not (reply.detail.get("memo") or reply.detail.get("perceived"))}

        sandbox = SandboxRun(
            limits=self.engine.limits, simulate=simulate,
            robot=(lambda name, args, kwargs: robot.call(name, args, kwargs)) if robot is not None else None,
            on_event=on_worker_event, cancel=self.cancel, deadline=self.deadline,
            on_abort=robot.stop if robot is not None else None)
        try:
            done = sandbox.run(r.program, mode.value, sorted(robot.functions) if robot is not None else [])
        except WorkerFailed as exc:
            err = CocError(str(exc))
            err.kind = exc.kind
            raise err from None
        r.answer = done.get("answer")
        r.final_state = done.get("final_state", {})
        if not done.get("has_answer"):
            r.answer = None
            raise CocError("the program finished without setting `answer`")
