"""`lmulator` node: the only process that loads the model (at start, so the first goal does not wait for it).

Services:
  /coc/lmulator/simulate (coc_ros/srv/Simulate)  - LMulator(llm).simulate: the value of an undefined helper call,
                                                   the variables a pseudo-code line changes, or a whole program
  /coc/lmulator/complete (coc_ros/srv/Complete)  - plain chat completion (program generation, direct/CoT answers)
Topics:
  /coc/lmulator/state     (coc_ros/msg/SimulatedState) - every simulated value, one message per successful
                                                         Simulate response (replays included), so the recorder
                                                         can check it has a run's states against the caller's count
  /coc/lmulator/heartbeat (std_msgs/String)            - liveness for callers (coc_ros.ros.heartbeat)

Parameters: llm ("local" | "openai" | "scripted:PATH"), llm_options (JSON object passed to make_llm, e.g.
{"model_path": "...", "n_threads": 2} or {"base_url": "...", "model": "..."}), reply_delay_s (testing aid: sleep
before each reply, to exercise cancel and timeouts with a scripted LLM).
The model is not thread-safe: requests are served one at a time, in arrival order; the heartbeat keeps beating
meanwhile. A request identical to a recent one is answered with the same response without asking the model
again: callers send a call once more when its response was lost (coc_ros.ros.service_call), and the model must
not be consulted twice for it (a scripted LLM would hand out its next reply; a real one would spend seconds).
"""
from __future__ import annotations

import collections
import hashlib
import json
import time
from typing import Any

import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.serialization import serialize_message

from coc_ros.engine.lmulator import LMulator
from coc_ros.engine.lmulator_protocol import SimRequest
from coc_ros.llm import make_llm
from coc_ros.msg import SimulatedState
from coc_ros.ros import names
from coc_ros.ros.heartbeat import HeartbeatPublisher
from coc_ros.ros.messages import stamp_msg
from coc_ros.ros.qos import history_qos
from coc_ros.ros.spin import spin
from coc_ros.srv import Complete, Simulate

REPLAY_WINDOW_S = 60.0
REPLAY_ENTRIES = 16


class ReplayCache:
    """Recent responses by the digest of their serialized request (both services share it; types differ)."""

    def __init__(self, window_s: float = REPLAY_WINDOW_S, entries: int = REPLAY_ENTRIES):
        self.window_s = window_s
        self._entries: collections.OrderedDict[bytes, tuple[float, Any]] = collections.OrderedDict()
        self._size = entries

    @staticmethod
    def key(request: Any) -> bytes:
        return type(request).__name__.encode() + hashlib.sha256(serialize_message(request)).digest()

    def get(self, key: bytes) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.window_s:
            return None
        return entry[1]

    def put(self, key: bytes, response: Any) -> None:
        self._entries[key] = (time.monotonic(), response)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class LmulatorNode(Node):
    """Serves the model to coc_server: program generation (Complete) and LMulator values (Simulate)."""

    def __init__(self) -> None:
        super().__init__("lmulator")
        self.llm_spec: str = self.declare_parameter("llm", "local").value
        options_json: str = self.declare_parameter("llm_options", "{}").value
        self.reply_delay_s: float = self.declare_parameter("reply_delay_s", 0.0).value
        try:
            options = json.loads(options_json or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"parameter llm_options is not a JSON object: {exc}") from None
        if not isinstance(options, dict):
            raise ValueError("parameter llm_options must be a JSON object")
        start = time.monotonic()
        self.llm = make_llm(self.llm_spec, options)
        self.lmulator = LMulator(self.llm)
        self.replay = ReplayCache()
        self.state_pub = self.create_publisher(SimulatedState, names.LM_STATE, history_qos())
        group = MutuallyExclusiveCallbackGroup()  # one request at a time, in arrival order
        self.create_service(Simulate, names.LM_SIMULATE, self.on_simulate, callback_group=group)
        self.create_service(Complete, names.LM_COMPLETE, self.on_complete, callback_group=group)
        self.heartbeat = HeartbeatPublisher(self, names.LM_HEARTBEAT)
        self.get_logger().info(f"lmulator ready (llm={self.llm_spec}, loaded in {time.monotonic() - start:.1f} s, "
                               f"instance {self.heartbeat.instance})")

    def on_simulate(self, req: Simulate.Request, resp: Simulate.Response) -> Simulate.Response:
        with self.heartbeat.serving():
            key = self.replay.key(req)
            cached = self.replay.get(key)
            if cached is not None:
                self.get_logger().info(f"simulate: repeated request for {req.expression[:80]!r}, same answer")
                resp = cached
            else:
                self._simulate(req, resp)
                self.replay.put(key, resp)
            if resp.success:
                self.state_pub.publish(SimulatedState(
                    stamp=stamp_msg(), run_id=req.run_id, line=req.line, source=req.source, kind=req.kind or "call",
                    expression=req.expression, value=resp.value, state_json=req.state_json or "{}"))
            return resp

    def _simulate(self, req: Simulate.Request, resp: Simulate.Response) -> None:
        try:
            state = json.loads(req.state_json or "{}")
            sim_req = SimRequest(run_id=req.run_id, question=req.question, program=req.program, line=req.line,
                                 source=req.source, kind=req.kind or "call", expression=req.expression,
                                 state={str(k): str(v) for k, v in dict(state).items()},
                                 hints=dict(json.loads(req.hints_json or "{}")))
            self._delay()
            reply = self.lmulator.simulate(sim_req)
        except Exception as exc:  # SimulationError, bad JSON, LLM failures: all go back to the caller
            resp.success = False
            resp.error = str(exc) if type(exc).__name__ == "SimulationError" else f"{type(exc).__name__}: {exc}"
            self.get_logger().warning(f"simulate failed: {resp.error}")
            return
        resp.success = True
        resp.value = reply.value
        resp.prompt_id, resp.reply_id = reply.prompt_id, reply.reply_id
        resp.prompt_tokens = int(reply.prompt_tokens)
        resp.completion_tokens = int(reply.completion_tokens)
        resp.detail_json = json.dumps(reply.detail, default=str)

    def on_complete(self, req: Complete.Request, resp: Complete.Response) -> Complete.Response:
        with self.heartbeat.serving():
            key = self.replay.key(req)
            cached = self.replay.get(key)
            if cached is not None:
                self.get_logger().info("complete: repeated request, same answer")
                return cached
            self._complete(req, resp)
            self.replay.put(key, resp)
            return resp

    def _complete(self, req: Complete.Request, resp: Complete.Response) -> None:
        try:
            messages = json.loads(req.messages_json)
            stop = json.loads(req.stop_json) if req.stop_json else None
            if not isinstance(messages, list):
                raise ValueError("messages_json must be a JSON list of {role, content}")
            self._delay()
            c = self.llm.complete(messages, max_tokens=int(req.max_tokens or 512), stop=stop or None)
        except Exception as exc:  # LLM failures and bad requests go back to the caller
            resp.success = False
            resp.error = f"{type(exc).__name__}: {exc}"
            self.get_logger().warning(f"complete failed: {resp.error}")
            return
        resp.success = True
        resp.text = c.text
        resp.prompt_tokens = int(c.prompt_tokens)
        resp.completion_tokens = int(c.completion_tokens)
        resp.cached_tokens = int(c.cached_tokens)
        resp.prefill_s, resp.generation_s = float(c.prefill_s), float(c.generation_s)

    def _delay(self) -> None:
        if self.reply_delay_s > 0:
            time.sleep(self.reply_delay_s)


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    raise SystemExit(spin(LmulatorNode, MultiThreadedExecutor(num_threads=3), "lmulator"))


if __name__ == "__main__":
    main()
