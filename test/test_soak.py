"""Soak: 60 short goals in a row through the real action server; no leaked processes, fds or memory."""
from __future__ import annotations

import pytest

from coc_ros.bench.soak import FD_GROWTH_LIMIT, RSS_GROWTH_LIMIT_MB, run_soak, script_replies

pytestmark = pytest.mark.timeout(180)


def test_script_holds_enough_replies():
    replies = script_replies(10)
    assert len(replies) == 15  # 10 programs + 5 LMulator replies


def test_soak_60_goals():
    r = run_soak(60, print_table=True)
    assert r["successes"] == 60, r["failures"]
    assert r["children_after"] == 0
    assert r["fds_after"] - r["fds_before"] <= FD_GROWTH_LIMIT, r
    assert r["rss_growth_mb"] < RSS_GROWTH_LIMIT_MB, r
    assert r["goals_per_s"] > 0.5, r
    assert all(code == 0 for code in r["exit_codes"].values()), r["exit_codes"]
