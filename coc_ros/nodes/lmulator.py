"""`lmulator` node: the only process that loads the model.

Services:
  /coc/lmulator/simulate (coc_ros/srv/Simulate)  - LMulator(llm).simulate: the value of an undefined helper call,
                                                   the variables a pseudo-code line changes, or a whole program
  /coc/lmulator/complete (coc_ros/srv/Complete)  - plain chat completion (program generation, direct/CoT answers)
Topics:
  /coc/lmulator/state     (coc_ros/msg/SimulatedState) - every simulated value
  /coc/lmulator/heartbeat (std_msgs/Header)            - liveness for clients (see ros_clients.py)

Parameters: llm ("local" | "openai" | "scripted:PATH"), llm_options (JSON object passed to make_llm, e.g.
{"model_path": "...", "n_threads": 2} or {"base_url": "...", "model": "..."}), reply_delay_s (testing aid: sleep
before each reply, to exercise cancel and timeouts with a scripted LLM).
The model is not thread-safe: requests are served one at a time (a lock), the heartbeat keeps beating meanwhile.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from coc_ros.nodes import common


def _make_node() -> Any:
    from rclpy.callback_groups import MutuallyExclusiveCallbackGroup  # noqa: PLC0415
    from rclpy.node import Node  # noqa: PLC0415

    from coc_ros.engine.lmulator import LMulator  # noqa: PLC0415
    from coc_ros.engine.lmulator_protocol import SimRequest  # noqa: PLC0415
    from coc_ros.llm import make_llm  # noqa: PLC0415
    from coc_ros.msg import SimulatedState  # noqa: PLC0415
    from coc_ros.srv import Complete, Simulate  # noqa: PLC0415

    class LmulatorNode(Node):
        def __init__(self) -> None:
            super().__init__("lmulator")
            self.declare_parameter("llm", "local")
            self.declare_parameter("llm_options", "{}")
            self.declare_parameter("reply_delay_s", 0.0)
            spec = self.get_parameter("llm").value
            try:
                options = json.loads(self.get_parameter("llm_options").value or "{}")
            except json.JSONDecodeError as exc:
                raise ValueError(f"parameter llm_options is not a JSON object: {exc}") from None
            if not isinstance(options, dict):
                raise ValueError("parameter llm_options must be a JSON object")
            self.delay_s = float(self.get_parameter("reply_delay_s").value)
            self.llm = make_llm(spec, options)
            self.lmulator = LMulator(self.llm)
            self._lock = threading.Lock()
            self.state_pub = self.create_publisher(SimulatedState, common.LM_STATE, common.history_qos())
            group = MutuallyExclusiveCallbackGroup()  # one request at a time, in arrival order
            self.create_service(Simulate, common.LM_SIMULATE, self._simulate, callback_group=group)
            self.create_service(Complete, common.LM_COMPLETE, self._complete, callback_group=group)
            self.heartbeat = common.HeartbeatPublisher(self, common.LM_HEARTBEAT)
            self.get_logger().info(f"lmulator ready (llm={spec})")

        def _delay(self) -> None:
            if self.delay_s > 0:
                time.sleep(self.delay_s)

        def _simulate(self, req: Any, resp: Any) -> Any:
            try:
                state = json.loads(req.state_json or "{}")
                sim_req = SimRequest(run_id=req.run_id, question=req.question, program=req.program, line=req.line,
                                     source=req.source, kind=req.kind or "call", expression=req.expression,
                                     state={str(k): str(v) for k, v in dict(state).items()})
                self._delay()
                with self._lock:
                    reply = self.lmulator.simulate(sim_req)
            except Exception as exc:  # noqa: BLE001 - SimulationError, bad JSON, LLM failures: all go to the caller
                resp.success = False
                resp.error = f"{type(exc).__name__}: {exc}" if type(exc).__name__ != "SimulationError" else str(exc)
                self.get_logger().warning(f"simulate failed: {resp.error}")
                return resp
            resp.success = True
            resp.value = reply.value
            resp.prompt_id, resp.reply_id = reply.prompt_id, reply.reply_id
            resp.prompt_tokens = int(reply.prompt_tokens)
            resp.completion_tokens = int(reply.completion_tokens)
            self.state_pub.publish(SimulatedState(
                stamp=common.stamp_msg(), run_id=req.run_id, line=req.line, source=req.source, kind=sim_req.kind,
                expression=req.expression, value=reply.value, state_json=req.state_json or "{}"))
            return resp

        def _complete(self, req: Any, resp: Any) -> Any:
            try:
                messages = json.loads(req.messages_json)
                stop = json.loads(req.stop_json) if req.stop_json else None
                if not isinstance(messages, list):
                    raise ValueError("messages_json must be a JSON list of {role, content}")
                self._delay()
                with self._lock:
                    c = self.llm.complete(messages, max_tokens=int(req.max_tokens or 512), stop=stop or None)
            except Exception as exc:  # noqa: BLE001
                resp.success = False
                resp.error = f"{type(exc).__name__}: {exc}"
                self.get_logger().warning(f"complete failed: {resp.error}")
                return resp
            resp.success = True
            resp.text = c.text
            resp.prompt_tokens = int(c.prompt_tokens)
            resp.completion_tokens = int(c.completion_tokens)
            return resp

    return LmulatorNode()


def main(args: list[str] | None = None) -> None:
    raise SystemExit(common.run_node(_make_node, threads=3, args=args, name="lmulator"))


if __name__ == "__main__":
    main()
