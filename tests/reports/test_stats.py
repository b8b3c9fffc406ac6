"""``ticketgw stats`` against the hand-computed week of ``dataset``."""

from __future__ import annotations

from gateway.runtime import Runtime
from tests.cli.conftest import Ticketgw, assert_ok
from tests.reports.dataset import NOW, load

AT = NOW.isoformat()


def test_figures_of_the_week(runtime: Runtime, gw: Ticketgw) -> None:
    load(runtime)
    stats = assert_ok(gw("stats", "--since", "7d", "--at", AT, "--json")).json()
    assert set(stats) == {"since", "now", "volume", "open", "backlog", "times", "csat"}
    assert stats["volume"] == [
        {"day": "2026-11-16", "total": 1, "by_channel": {"email": 1}},
        {"day": "2026-11-18", "total": 1, "by_channel": {"email": 1}},
        {"day": "2026-11-19", "total": 3, "by_channel": {"email": 2, "sms": 1}},
        {"day": "2026-11-20", "total": 2, "by_channel": {"email": 2}},
    ]
    assert stats["open"] == {
        "by_status": {"new": 1, "open": 3, "pending": 1},
        "by_priority": {"normal": 2, "urgent": 3},
        "by_queue": {"default": 4, "vip": 1},
    }
    assert stats["backlog"] == {
        "open": 5,
        "oldest_created_at": "2026-11-01T08:00:00Z",
        "under_1d": 3,
        "1d_to_3d": 1,
        "3d_to_7d": 0,
        "over_7d": 1,
    }
    assert stats["times"] == {
        # wall clock: 0.5, 2, 0.5, 2 (Mon 09:00 -> 11:00), 0.5
        "first_response": {"count": 5, "median_hours": 0.5, "p90_hours": 2.0},
        # 6, 10, 25 (Mon 09:00 -> Tue 10:00)
        "resolution": {"count": 3, "median_hours": 10.0, "p90_hours": 25.0},
    }
    assert stats["csat"] == {"asked": 3, "answered": 2, "response_rate": 66.7, "average": 3.5}


def test_an_empty_window(gw: Ticketgw) -> None:
    stats = assert_ok(gw("stats", "--json")).json()
    assert stats["volume"] == []
    assert stats["csat"] == {"asked": 0, "answered": 0, "response_rate": None, "average": None}
    assert stats["times"]["resolution"] == {"count": 0, "median_hours": None, "p90_hours": None}
    assert "(no tickets to chart)" in assert_ok(gw("stats", "--chart")).stdout


def test_tables_and_a_bar_chart_of_daily_volume(runtime: Runtime, gw: Ticketgw) -> None:
    load(runtime)
    out = assert_ok(gw("stats", "--since", "7d", "--at", AT, "--chart")).stdout
    assert out.startswith("From 2026-11-13T12:00:00Z to 2026-11-20T12:00:00Z\n")
    assert "New tickets per day" in out
    assert "Satisfaction" in out
    assert "66.7%" in out
    bars = {line.split()[0]: line.count("█") for line in out.splitlines() if "█" in line}
    # The busiest day (3 tickets) gets the whole width, the others their share.
    assert bars == {"2026-11-16": 13, "2026-11-18": 13, "2026-11-19": 40, "2026-11-20": 27}


def test_without_chart_there_are_no_bars(runtime: Runtime, gw: Ticketgw) -> None:
    load(runtime)
    assert "█" not in assert_ok(gw("stats", "--at", AT)).stdout
