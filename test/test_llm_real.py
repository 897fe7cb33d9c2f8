"""End-to-end smoke tests with the real offline model (Qwen2.5-Coder-1.5B via llama.cpp), in-process and through
llama-cpp-python's own OpenAI-compatible server with the official `openai` client."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from coc_ros.config import default_model_path
from coc_ros.engine.runner import Engine
from coc_ros.core.types import Limits
from coc_ros.llm.local import LocalLLM
from coc_ros.llm.openai_backend import OpenAILLM

QUESTION = "I have an apple, a chair and a banana. How many fruits do I have?"


@pytest.fixture(scope="module")
def local_llm() -> LocalLLM:
    return LocalLLM(n_ctx=4096)


def test_local_model_chain_of_code_end_to_end(local_llm):
    result = Engine(local_llm, limits=Limits(timeout_s=400)).run(QUESTION)
    assert result.success, result.error
    assert "answer" in result.program
    executors = {e.executor for e in result.trace if e.kind == "line"}
    assert "python" in executors
    assert isinstance(result.answer, int) and 0 <= result.answer <= 3
    assert result.lm_calls >= 1 and result.completion_tokens > 0


def test_local_lmulator_predicts_literals(local_llm):
    from coc_ros.engine.lmulator import LMulator
    from coc_ros.engine.lmulator_protocol import SimRequest

    lm = LMulator(local_llm)
    values = {}
    for thing in ("banana", "car"):
        reply = lm.simulate(SimRequest(run_id="t", question="How many fruits are there?", program="", line=1,
                                       source="if is_fruit(x):", kind="call", expression=f"is_fruit({thing!r})",
                                       state={"x": repr(thing)}))
        values[thing] = reply.value
    assert values == {"banana": "True", "car": "False"}


def test_local_yes_no_decision_from_log_odds_and_grammar_names(local_llm):
    """The typed decisions on the real model: Yes/No scores are log-probabilities; a grammar admits only names."""
    from coc_ros.engine.prompts import choice_messages, yes_no_messages

    carrot = local_llm.score_options(yes_no_messages("", "is_vegetable", ["carrot"]), ["Yes", "No"])
    stone = local_llm.score_options(yes_no_messages("", "is_vegetable", ["stone"]), ["Yes", "No"])
    assert all(v < 0 for v in (*carrot.values(), *stone.values()))  # log-probabilities
    assert carrot["Yes"] - carrot["No"] > stone["Yes"] - stone["No"]
    names = ["green_bin", "blue_bin", "kid's \"cup\""]
    reply = local_llm.complete_choice(choice_messages("put it in the grass-coloured bin", "find_container",
                                                      ["grass-coloured bin"], names), names)
    assert eval(reply.text, {"__builtins__": {}}) in names


def test_local_sampling_is_seeded_and_the_reviewer_prefers_the_program_that_does_what_was_asked(local_llm):
    """The two capabilities behind reranking, on the real model: a draw is reproducible from its seed and leaves
    greedy replies as they were; log p(instruction | program) is higher for the program that carries it out."""
    from coc_ros.engine.prompts import review_messages

    messages = [{"role": "user", "content": "Name one fruit."}]
    greedy = local_llm.complete(messages, max_tokens=12).text
    first = local_llm.sample(messages, max_tokens=12, temperature=1.0, seed=7).text
    assert local_llm.sample(messages, max_tokens=12, temperature=1.0, seed=7).text == first
    assert local_llm.complete(messages, max_tokens=12).text == greedy
    instruction = "Put the bread in the box."
    bread = "for obj in detect_objects():\n    if obj == 'bread':\n        pick_place(obj, 'box')\n"
    ham = "for obj in detect_objects():\n    if obj == 'ham':\n        pick_place(obj, 'trash_bin')\n"
    right = local_llm.reply_logprob(review_messages(bread), instruction)
    wrong = local_llm.reply_logprob(review_messages(ham), instruction)
    assert right < 0 and right > wrong


def test_local_lmulator_describes_detected_objects_before_deciding(local_llm):
    """Generated knowledge on the real model: a detected object is described in the model's own words, the
    description is in the decision's trace detail, and it is asked once however many decisions use it."""
    from coc_ros.engine.lmulator import LMulator
    from coc_ros.engine.lmulator_protocol import SimRequest

    lm = LMulator(local_llm)
    peers = ["ham", "apple", "carrot"]
    replies = {}
    for obj in peers:
        hints = {"decision": "bool", "helper": "is_meat", "args": [obj], "peers": peers}
        replies[obj] = lm.simulate(SimRequest(run_id="t", question="Put the meat in the fridge.", program="",
                                              line=1, source="if is_meat(obj):", kind="call",
                                              expression=f"is_meat({obj!r})", state={}, hints=hints))
    assert {o: r.value for o, r in replies.items()} == {"ham": "True", "apple": "False", "carrot": "False"}
    assert all(r.detail["fact"] for r in replies.values())
    assert "apple" in replies["apple"].detail["fact"].lower()
    assert sorted(obj for obj, _ in lm._facts) == sorted(peers)  # each described once, with the scene's objects


def test_prefix_kv_state_persists_across_processes(tmp_path, monkeypatch):
    """A second backend instance (as in a new process) restores the few-shot prefix from disk and answers the same."""
    monkeypatch.setenv("COC_ROS_MODEL", str(default_model_path()))  # the installed model, before the cache moves
    monkeypatch.setenv("COC_ROS_CACHE", str(tmp_path))
    from coc_ros.engine.prompts import yes_no_messages

    messages = yes_no_messages("", "is_fruit", ["banana"])
    first = LocalLLM(n_ctx=2048, slots=1)
    scores = first.score_options(messages, ["Yes", "No"])
    assert first.prefixes.saves == 1 and len(list((tmp_path / "kv").glob("*.kv"))) == 1
    second = LocalLLM(n_ctx=2048, slots=1)
    again = second.score_options(messages, ["Yes", "No"])
    assert second.prefixes.loads == 1 and second.prefixes.saves == 0
    assert again == pytest.approx(scores, abs=1e-3)


def test_openai_backend_decides_from_logprobs_or_free_text(llama_server):
    """Through an OpenAI-compatible server: scores when it returns logprobs, else a graceful free-text decision."""
    from coc_ros.engine.lmulator import LMulator
    from coc_ros.engine.lmulator_protocol import SimRequest
    from coc_ros.llm.base import ScoresUnavailable

    llm = OpenAILLM(base_url=llama_server)
    try:
        scores = llm.score_options([{"role": "user", "content": "Is a carrot a vegetable? Answer Yes or No."}],
                                   ["Yes", "No"])
    except ScoresUnavailable:
        scores = None
    else:
        assert scores["Yes"] > scores["No"]
    reply = LMulator(llm).simulate(SimRequest(
        run_id="o", question="How many vegetables?", program="", line=1, source="if is_vegetable(x):", kind="call",
        expression="is_vegetable('carrot')", state={}, hints={"decision": "bool", "helper": "is_vegetable",
                                                            "args": ["carrot"]}))
    assert reply.value == "True"
    assert reply.detail["decision"] == ("bool" if scores is not None else "free")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    port = _free_port()
    # The server logs the whole model load to stderr: a file, not a pipe nobody reads (a full pipe blocks it).
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2)],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log_path.read_text(errors='replace')[-800:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)  # polling a condition (the port opening), bounded by the deadline above
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not open its port within 300 s")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def test_openai_backend_against_llama_cpp_server(llama_server):
    llm = OpenAILLM(base_url=llama_server)
    assert llm.model  # picked from models.list()
    completion = llm.complete([{"role": "user", "content": "Reply with the single word: pong"}], max_tokens=8)
    assert "pong" in completion.text.lower()
    assert completion.prompt_tokens > 0
    result = Engine(llm, limits=Limits(timeout_s=400)).run(QUESTION)
    assert result.success, result.error
    assert isinstance(result.answer, int)
