"""Concurrency limits through the real client and CLI: a global limit held by
`concurrency()` in concurrent tasks, `rate_limit()`, and a tag limit on tagged tasks."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.compat.conftest import Prefect, reported


def _overlap(spans: list[list[float]]) -> bool:
    first, second = sorted(spans)
    return second[0] < first[1]


def _ok(prefect: Prefect, *args: str) -> str:
    done = prefect.cli(*args)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_global_limit_and_rate_limit(prefect: Prefect) -> None:
    _ok(prefect, "global-concurrency-limit", "create", "gcl", "--limit", "1")
    _ok(prefect, "gcl", "create", "rl", "--limit", "1", "--slot-decay-per-second", "5")
    listed = _ok(prefect, "global-concurrency-limit", "ls")
    assert "gcl" in listed
    assert "rl" in listed
    _ok(prefect, "gcl", "disable", "gcl")
    _ok(prefect, "gcl", "enable", "gcl")
    _ok(prefect, "gcl", "update", "gcl", "--limit", "1", "--slot-decay-per-second", "0")
    inspected: dict[str, Any] = json.loads(_ok(prefect, "gcl", "inspect", "gcl", "-o", "json"))
    assert (inspected["limit"], inspected["active"], inspected["active_slots"]) == (1, True, 0)

    done = prefect.python("concurrency_global.py")
    assert done.returncode == 0, done.stderr
    report = reported(done)
    assert not _overlap(report["spans"]), report["spans"]
    # rl: one slot, five drain a second; the second and third calls each wait ~0.2 s.
    assert report["rate_limited_seconds"] >= 0.3, report

    held = prefect.get("/v2/concurrency_limits/gcl")
    assert (held["active_slots"], held["denied_slots"]) == (0, 0)
    assert held["avg_slot_occupancy_seconds"] > 0
    _ok(prefect, "gcl", "delete", "gcl")
    assert httpx.get(f"{prefect.api}/v2/concurrency_limits/gcl").status_code == 404


def test_tag_limit(prefect: Prefect) -> None:
    created = _ok(prefect, "concurrency-limit", "create", "mytag", "1")
    assert "Created concurrency limit" in created
    assert "mytag" in _ok(prefect, "concurrency-limit", "ls")
    inspected = json.loads(_ok(prefect, "concurrency-limit", "inspect", "mytag", "-o", "json"))
    assert (inspected["tag"], inspected["concurrency_limit"]) == ("mytag", 1)

    done = prefect.python("concurrency_tags.py")
    assert done.returncode == 0, done.stderr
    runs = reported(done)["runs"]
    assert not _overlap([run["span"] for run in runs]), runs
    tag_limit = prefect.get("/concurrency_limits/tag/mytag")
    assert tag_limit["active_slots"] == []

    assert "Reset" in _ok(prefect, "concurrency-limit", "reset", "mytag")
    assert "Deleted" in _ok(prefect, "concurrency-limit", "delete", "mytag")
    assert httpx.get(f"{prefect.api}/concurrency_limits/tag/mytag").status_code == 404
