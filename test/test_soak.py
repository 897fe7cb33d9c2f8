"""Soak: 60 short goals in a row through the real action server; no leaked processes, fds or memory."""
from __future__ import annotations

import pytest

from coc_ros.bench.soak import FD_GROWTH_LIMIT, RSS_GROWTH_LIMIT_MB, _server_succeeded, run_soak, script_replies

pytestmark = pytest.mark.timeout(180)


def test_script_holds_enough_replies():
    replies = script_replies(10)
    assert len(replies) == 15  # 10 programs + 5 LMulator replies


def test_a_warmup_goal_with_a_lost_response_counts_only_if_the_server_logged_its_success():
    class Log:
        def log_tail(self, name: str, chars: int = 4000) -> str:
            return ("[INFO] [coc_server]: run r1: 'warmup 0' (coc-interweave)\n"
                    "[INFO] [coc_server]: run r1 done in 0.38 s: success=True answer='42' error=''\n"
                    "[INFO] [coc_server]: run r2: 'warmup 1' (coc-interweave)\n"
                    "[INFO] [coc_server]: run r2 done in 0.40 s: success=False answer=None error='x'\n")

    assert _server_succeeded(Log(), "warmup 0")
    assert not _server_succeeded(Log(), "warmup 1")  # ran, but failed
    assert not _server_succeeded(Log(), "warmup 2")  # never reached the server


def test_soak_60_goals():
    r = run_soak(60, print_table=True)
    assert r["successes"] == 60, r["failures"]
    assert r["children_after"] == 0
    assert r["fds_after"] - r["fds_before"] <= FD_GROWTH_LIMIT, r
    assert r["rss_growth_mb"] < RSS_GROWTH_LIMIT_MB, r
    assert r["goals_per_s"] > 0.5, r
    assert all(code == 0 for code in r["exit_codes"].values()), r["exit_codes"]
