"""Topic and service names: one place, so nodes, clients, the recorder and the tests agree."""
from __future__ import annotations

import os

ACTION = "/coc/execute"
ACTION_FEEDBACK = ACTION + "/_action/feedback"
ACTION_STATUS = ACTION + "/_action/status"
TRACE = "/coc/trace"
LM_STATE = "/coc/lmulator/state"
LM_SIMULATE = "/coc/lmulator/simulate"
LM_COMPLETE = "/coc/lmulator/complete"
LM_HEARTBEAT = "/coc/lmulator/heartbeat"
SKILL_CALLS = "/coc/skill_calls"
SKILL_HEARTBEAT = "/coc/skills/heartbeat"
SKILL_DETECT = "/coc/skills/detect_objects"
SKILL_PICK_PLACE = "/coc/skills/pick_place"
SKILL_MOVE_TO = "/coc/skills/move_to"
SKILL_STOP = "/coc/skills/stop"
SKILL_GET_WORLD = "/coc/skills/get_world"
RECORDER_CLOSED = "/coc/recorder/closed"
APPROVE_MOTION = "/coc/approve_motion"  # confirmation mode: coc_server asks, `coc-ros approve` answers
APPROVER_HEARTBEAT = "/coc/approve_motion/heartbeat"

RECORDER_NODE = "recorder"  # coc_server waits for a /coc/trace subscription of this node before recording


def bag_path(bag_dir: str, run_id: str) -> str:
    """Where the recorder writes a run's bag; coc_server reports the same path (they must agree)."""
    return os.path.join(os.path.abspath(os.path.expanduser(str(bag_dir))), run_id)
