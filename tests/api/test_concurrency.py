"""Concurrency limits: global (v2) limits with their slots, leases and rate limits, and tag
(v1) limits on top of them. Bodies are those the Prefect 3.9.1 client, task engine and CLI
send; time-dependent behaviour (decay, expiry) is driven by explicit times, not sleeps."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from baton.core import concurrency
from baton.db import tables as t
from baton.errors import NotFound
from baton.services import lease_expiry
from baton.services.lease_expiry import expire_leases
from tests.api.test_error_shape import assert_error

LIMIT_KEYS = {
    "id",
    "created",
    "updated",
    "active",
    "name",
    "limit",
    "active_slots",
    "denied_slots",
    "slot_decay_per_second",
    "avg_slot_occupancy_seconds",
}
TAG_LIMIT_KEYS = {"id", "created", "updated", "tag", "concurrency_limit", "active_slots"}
V2 = "/api/v2/concurrency_limits"
V1 = "/api/concurrency_limits"


def _utc(seconds: float = 0) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


async def _limits(app: FastAPI) -> dict[str, dict[str, Any]]:
    async with app.state.db.read() as conn:
        rows = (await conn.execute(sa.select(t.concurrency_limit))).mappings().all()
    return {row["name"]: dict(row) for row in rows}


async def _leases(app: FastAPI) -> list[dict[str, Any]]:
    async with app.state.db.read() as conn:
        rows = (await conn.execute(sa.select(t.concurrency_lease))).mappings().all()
        links = (await conn.execute(sa.select(t.concurrency_lease_limit))).all()
    by_lease: dict[uuid.UUID, set[uuid.UUID]] = {}
    for lease_id, limit_id in links:
        by_lease.setdefault(lease_id, set()).add(limit_id)
    return [{**row, "limit_ids": by_lease.get(row["id"], set())} for row in rows]


async def _create(client: httpx.AsyncClient, name: str, limit: int, **extra: Any) -> Any:
    response = await client.post(f"{V2}/", json={"name": name, "limit": limit, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def _slots(client: httpx.AsyncClient, name: str) -> int:
    response = await client.get(f"{V2}/{name}")
    assert response.status_code == 200, response.text
    slots: int = response.json()["active_slots"]
    return slots


def _increment(names: list[str], slots: int = 1, mode: str = "concurrency") -> dict[str, Any]:
    return {"names": names, "slots": slots, "mode": mode}


def _with_lease(names: list[str], slots: int = 1, **extra: Any) -> dict[str, Any]:
    return {"names": names, "slots": slots, "mode": "concurrency", "lease_duration": 300, **extra}


def _retry_after(response: httpx.Response) -> float:
    body = assert_error(response, 423, "locked")
    assert body["detail"].startswith("Not enough free slots")
    return float(response.headers["Retry-After"])


# --- global limits: CRUD ------------------------------------------------------------------


async def test_create_read_update_delete(client: httpx.AsyncClient, app: FastAPI) -> None:
    # `prefect global-concurrency-limit create gcl --limit 3` (exclude_unset=False in the CLI)
    response = await client.post(
        f"{V2}/",
        json={"name": "gcl", "limit": 3, "active": True, "active_slots": 0,
              "slot_decay_per_second": 0.0},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == LIMIT_KEYS
    assert (created["name"], created["limit"], created["active"]) == ("gcl", 3, True)
    assert (created["active_slots"], created["denied_slots"]) == (0, 0)
    assert created["slot_decay_per_second"] == 0.0
    assert created["created"].endswith("Z")
    row = (await _limits(app))["gcl"]
    assert (str(row["id"]), row["limit"], row["active"]) == (created["id"], 3, True)

    by_name = (await client.get(f"{V2}/gcl")).json()
    by_id = (await client.get(f"{V2}/{created['id']}")).json()
    assert by_name == by_id == created

    # `prefect gcl update gcl --limit 5 --slot-decay-per-second 0.5`, then `disable`
    response = await client.patch(f"{V2}/gcl", json={"limit": 5, "slot_decay_per_second": 0.5})
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.patch(f"{V2}/{created['id']}", json={"active": False})).status_code == 204
    row = (await _limits(app))["gcl"]
    assert (row["limit"], row["slot_decay_per_second"], row["active"]) == (5, 0.5, False)
    read = (await client.get(f"{V2}/gcl")).json()
    assert read["updated"] > created["updated"]
    assert read["created"] == created["created"]

    assert (await client.patch(f"{V2}/gcl", json={"name": "renamed"})).status_code == 204
    assert list(await _limits(app)) == ["renamed"]
    assert (await client.delete(f"{V2}/renamed")).status_code == 204
    assert await _limits(app) == {}
    assert_error(await client.get(f"{V2}/{created['id']}"), 404, "not_found")


async def test_nulls_from_the_client_take_the_defaults(client: httpx.AsyncClient) -> None:
    body = {"name": "n", "limit": 1, "active": None, "active_slots": None,
            "slot_decay_per_second": None}  # fmt: skip
    created = (await client.post(f"{V2}/", json=body)).json()
    assert (created["active"], created["active_slots"], created["slot_decay_per_second"]) == (
        True,
        0,
        0.0,
    )
    # A null in an update changes nothing.
    assert (await client.patch(f"{V2}/n", json={"limit": None})).status_code == 204
    assert (await client.get(f"{V2}/n")).json()["limit"] == 1


async def test_duplicate_name_is_409(client: httpx.AsyncClient, app: FastAPI) -> None:
    first = await _create(client, "a", 1)
    await _create(client, "b", 1)
    response = await client.post(f"{V2}/", json={"name": "a", "limit": 7})
    body = assert_error(response, 409, "conflict")
    assert body["detail"] == "A concurrency limit with the name 'a' already exists."
    assert_error(await client.patch(f"{V2}/b", json={"name": "a"}), 409, "conflict")
    rows = await _limits(app)
    assert (str(rows["a"]["id"]), rows["a"]["limit"]) == (first["id"], 1)
    assert set(rows) == {"a", "b"}


async def test_unknown_limit_or_lease_is_404(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()
    for response in (
        await client.get(f"{V2}/{missing}"),
        await client.get(f"{V2}/nope"),
        await client.patch(f"{V2}/nope", json={"limit": 2}),
        await client.delete(f"{V2}/{missing}"),
    ):
        assert assert_error(response, 404, "not_found")["detail"] == "Concurrency limit not found."
    response = await client.post(f"{V2}/leases/{missing}/renew", json={"lease_duration": 60})
    assert assert_error(response, 404, "not_found")["detail"] == "Concurrency lease not found."


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x", "limit": -1}, "body.limit"),
        ({"name": "x"}, "body.limit"),
        ({"name": "a/b", "limit": 1}, "body.name"),
        ({"name": "", "limit": 1}, "body.name"),
        ({"name": "x" * 256, "limit": 1}, "body.name"),
        ({"name": "x", "limit": 1, "slot_decay_per_second": -1}, "body.slot_decay_per_second"),
        ({"name": "x", "limit": 1, "active_slots": -1}, "body.active_slots"),
        ({"name": "x", "limit": 2**40}, "body.limit"),
    ],
)
async def test_bad_create_is_422(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, Any], loc: str
) -> None:
    response = await client.post(f"{V2}/", json=body)
    assert assert_error(response, 422, "invalid")["errors"][0]["loc"] == loc
    assert await _limits(app) == {}


async def test_filter_by_name_with_paging(client: httpx.AsyncClient) -> None:
    for name in ("c", "a", "b"):
        await _create(client, name, 1)

    async def names(body: dict[str, Any] | None) -> list[str]:
        response = await client.post(f"{V2}/filter", json=body)
        assert response.status_code == 200, response.text
        return [limit["name"] for limit in response.json()]

    assert await names({"limit": 100, "offset": 0}) == ["a", "b", "c"]  # `prefect gcl ls`
    assert await names(None) == ["a", "b", "c"]
    assert await names({"limit": 1, "offset": 1}) == ["b"]
    response = await client.post(f"{V2}/filter", json={"limit": -1})
    assert assert_error(response, 422, "invalid")["errors"][0]["loc"] == "body.limit"


# --- slots --------------------------------------------------------------------------------


async def test_increment_until_full_then_423_then_decrement(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    limit = await _create(client, "db", 2)
    response = await client.post(f"{V2}/increment", json=_increment(["db"]))
    assert response.status_code == 200, response.text
    assert response.json() == [{"id": limit["id"], "name": "db", "limit": 2}]
    assert (await client.post(f"{V2}/increment", json=_increment(["db"]))).status_code == 200
    assert await _slots(client, "db") == 2

    refused = await client.post(f"{V2}/increment", json=_increment(["db"]))
    assert 0.1 <= _retry_after(refused) <= 30
    assert "'db': 2 of 2" in refused.json()["detail"]
    row = (await _limits(app))["db"]
    assert (row["active_slots"], row["denied_slots"]) == (2, 1)

    # What the client's release_concurrency_slots sends.
    body = {"names": ["db"], "slots": 1, "occupancy_seconds": 3.0}
    response = await client.post(f"{V2}/decrement", json=body)
    assert response.status_code == 200
    assert response.json() == [{"id": limit["id"], "name": "db", "limit": 2}]
    row = (await _limits(app))["db"]
    assert row["active_slots"] == 1
    assert row["avg_slot_occupancy_seconds"] == pytest.approx(1 + 0.3 * (3 - 1))

    assert (await client.post(f"{V2}/increment", json=_increment(["db"]))).status_code == 200
    row = (await _limits(app))["db"]
    assert (row["active_slots"], row["denied_slots"]) == (2, 0)

    # Giving back more than is held stops at 0.
    await client.post(f"{V2}/decrement", json={"names": ["db"], "slots": 5})
    assert await _slots(client, "db") == 0


async def test_all_or_nothing_across_names(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _create(client, "full", 1, active_slots=1)
    await _create(client, "free", 5)
    refused = await client.post(f"{V2}/increment", json=_increment(["free", "full"], 1))
    _retry_after(refused)
    refused = await client.post(f"{V2}/increment-with-lease", json=_with_lease(["free", "full"]))
    _retry_after(refused)
    rows = await _limits(app)
    assert (rows["full"]["active_slots"], rows["free"]["active_slots"]) == (1, 0)
    assert (rows["full"]["denied_slots"], rows["free"]["denied_slots"]) == (2, 0)
    assert await _leases(app) == []

    await client.post(f"{V2}/decrement", json={"names": ["full"], "slots": 1})
    response = await client.post(f"{V2}/increment", json=_increment(["free", "full"], 1))
    assert sorted(limit["name"] for limit in response.json()) == ["free", "full"]
    rows = await _limits(app)
    assert (rows["full"]["active_slots"], rows["free"]["active_slots"]) == (1, 1)


async def test_unknown_names_are_skipped(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _create(client, "known", 2)
    response = await client.post(f"{V2}/increment", json=_increment(["known", "unknown"]))
    assert [limit["name"] for limit in response.json()] == ["known"]

    # The task engine asks for "tag:<tag>" for every tag, limited or not.
    task_run = str(uuid.uuid4())
    body = _with_lease(["tag:a", "tag:b"], holder={"type": "task_run", "id": task_run})
    response = await client.post(f"{V2}/increment-with-lease", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["limits"] == []
    assert uuid.UUID(response.json()["lease_id"])
    assert await _leases(app) == []
    assert (await client.post(f"{V2}/increment", json=_increment(["nope"]))).json() == []


async def test_inactive_limit_counts_but_never_blocks(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _create(client, "off", 1, active=False)
    for _ in range(3):
        response = await client.post(f"{V2}/increment", json=_increment(["off"]))
        assert response.status_code == 200, response.text
    assert await _slots(client, "off") == 3
    assert (await client.patch(f"{V2}/off", json={"active": True})).status_code == 204
    _retry_after(await client.post(f"{V2}/increment", json=_increment(["off"])))


async def test_slots_beyond_the_limit_and_a_limit_of_zero(client: httpx.AsyncClient) -> None:
    await _create(client, "two", 2)
    response = await client.post(f"{V2}/increment", json=_increment(["two"], 3))
    body = assert_error(response, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.slots"
    assert "never" in body["detail"]

    # A limit of 0 blocks: the caller waits until someone raises it.
    await _create(client, "zero", 0)
    refused = await client.post(f"{V2}/increment", json=_increment(["zero"], 1))
    assert _retry_after(refused) == 30


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("increment", {"names": [], "slots": 1}, "body.names"),
        ("increment", {"names": ["a"], "slots": 0}, "body.slots"),
        ("increment", {"names": ["a"], "slots": 1, "mode": "fast"}, "body.mode"),
        ("increment-with-lease", {"names": ["a"], "slots": 1, "lease_duration": 0},
         "body.lease_duration"),
        ("increment-with-lease", {"names": ["a"], "slots": 1, "holder": {"type": "me"}},
         "body.holder.type"),
        ("decrement", {"names": ["a"]}, "body.slots"),
        ("decrement-with-lease", {"lease_id": "nope"}, "body.lease_id"),
    ],
)  # fmt: skip
async def test_bad_slot_requests_are_422(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], loc: str
) -> None:
    response = await client.post(f"{V2}/{path}", json=body)
    assert assert_error(response, 422, "invalid")["errors"][0]["loc"] == loc


async def test_create_if_missing_makes_inactive_limits(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    body = {**_increment(["made"]), "create_if_missing": True}
    response = await client.post(f"{V2}/increment", json=body)
    assert [limit["name"] for limit in response.json()] == ["made"]
    row = (await _limits(app))["made"]
    assert (row["limit"], row["active"], row["active_slots"]) == (1, False, 1)


# --- leases -------------------------------------------------------------------------------


async def test_lease_renew_and_release(client: httpx.AsyncClient, app: FastAPI) -> None:
    a = await _create(client, "a", 2)
    b = await _create(client, "b", 2)
    holder = {"type": "task_run", "id": str(uuid.uuid4())}
    before = _utc()
    response = await client.post(
        f"{V2}/increment-with-lease", json=_with_lease(["b", "a"], 2, holder=holder)
    )
    assert response.status_code == 200, response.text
    granted = response.json()
    assert set(granted) == {"lease_id", "limits"}
    assert granted["limits"] == [
        {"id": a["id"], "name": "a", "limit": 2},
        {"id": b["id"], "name": "b", "limit": 2},
    ]
    (lease,) = await _leases(app)
    assert str(lease["id"]) == granted["lease_id"]
    assert lease["slots"] == 2
    assert (lease["holder_type"], str(lease["holder_id"])) == ("task_run", holder["id"])
    assert {str(i) for i in lease["limit_ids"]} == {a["id"], b["id"]}
    assert before + dt.timedelta(seconds=299) < lease["expires"] < _utc(301)
    assert (await _slots(client, "a"), await _slots(client, "b")) == (2, 2)
    _retry_after(await client.post(f"{V2}/increment-with-lease", json=_with_lease(["a"])))

    url = f"{V2}/leases/{granted['lease_id']}/renew"
    response = await client.post(url, json={"lease_duration": 900})
    assert response.status_code == 204
    (renewed,) = await _leases(app)
    assert renewed["expires"] > _utc(899)

    body = {"lease_id": granted["lease_id"]}
    response = await client.post(f"{V2}/decrement-with-lease", json=body)
    assert response.status_code == 204
    assert await _leases(app) == []
    assert (await _slots(client, "a"), await _slots(client, "b")) == (0, 0)
    # The holder finished after well under a second: the average occupancy moves down.
    assert (await _limits(app))["a"]["avg_slot_occupancy_seconds"] < 1.0
    # Releasing again is a no-op; renewing what is gone is a 404.
    assert (await client.post(f"{V2}/decrement-with-lease", json=body)).status_code == 204
    assert_error(await client.post(url, json={"lease_duration": 60}), 404, "not_found")


async def test_lapsed_leases_give_their_slots_back(client: httpx.AsyncClient, app: FastAPI) -> None:
    db = app.state.db
    await _create(client, "one", 1)
    await _create(client, "many", 10)
    short = await client.post(
        f"{V2}/increment-with-lease", json={**_with_lease(["one", "many"]), "lease_duration": 60}
    )
    long = await client.post(f"{V2}/increment-with-lease", json=_with_lease(["many"], 3))
    assert (await _slots(client, "one"), await _slots(client, "many")) == (1, 4)

    assert await expire_leases(db, _utc(30)) == 0
    assert await expire_leases(db, _utc(120)) == 1
    assert (await _slots(client, "one"), await _slots(client, "many")) == (0, 3)
    assert [str(lease["id"]) for lease in await _leases(app)] == [long.json()["lease_id"]]
    # A lapsed holder is not a finished one: the average occupancy is unchanged.
    assert (await _limits(app))["one"]["avg_slot_occupancy_seconds"] == 1.0

    url = f"{V2}/leases/{short.json()['lease_id']}/renew"
    assert_error(await client.post(url, json={"lease_duration": 60}), 404, "not_found")
    assert await expire_leases(db, _utc(400)) == 1
    assert await _leases(app) == []
    assert await _slots(client, "many") == 0


async def test_expiry_pass_works_through_every_batch(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_expiry, "BATCH", 2)
    await _create(client, "wide", 10)
    for _ in range(5):
        await client.post(f"{V2}/increment-with-lease", json=_with_lease(["wide"]))
    assert await expire_leases(app.state.db, _utc(301)) == 5
    assert await _slots(client, "wide") == 0
    assert await expire_leases(app.state.db, _utc(301)) == 0


async def test_renewing_a_lease_past_its_expiry_releases_it(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db = app.state.db
    await _create(client, "x", 1)
    granted = await concurrency.increment_with_lease(db, ["x"], 1, "concurrency", 60)
    lease_id = granted["lease_id"]
    await concurrency.renew_lease(db, lease_id, 60, now=_utc(30))  # still live
    with pytest.raises(NotFound):
        await concurrency.renew_lease(db, lease_id, 60, now=_utc(120))
    assert await _leases(app) == []
    assert await _slots(client, "x") == 0


async def test_deleting_a_limit_leaves_its_holders_undisturbed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _create(client, "gone", 5)
    await _create(client, "kept", 5)
    only = (await client.post(f"{V2}/increment-with-lease", json=_with_lease(["gone"]))).json()
    both = await client.post(f"{V2}/increment-with-lease", json=_with_lease(["gone", "kept"]))
    assert (await client.delete(f"{V2}/gone")).status_code == 204
    leases = {str(lease["id"]): lease["limit_ids"] for lease in await _leases(app)}
    kept_id = (await _limits(app))["kept"]["id"]
    assert leases == {only["lease_id"]: set(), both.json()["lease_id"]: {kept_id}}

    # The holder of a lease on nothing renews and releases it as usual.
    renew = f"{V2}/leases/{only['lease_id']}/renew"
    assert (await client.post(renew, json={"lease_duration": 60})).status_code == 204
    assert (await client.post(f"{V2}/decrement-with-lease", json=only)).status_code == 204
    await client.post(f"{V2}/decrement-with-lease", json={"lease_id": both.json()["lease_id"]})
    assert await _slots(client, "kept") == 0
    assert await _leases(app) == []


async def test_expiry_forgets_v1_slots_left_holding_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await client.post(f"{V1}/", json={"tag": "raced", "concurrency_limit": 2})
    body = {"names": ["raced"], "task_run_id": str(uuid.uuid4())}
    assert (await client.post(f"{V1}/increment", json=body)).status_code == 200

    def drop_links(conn: sa.Connection) -> None:  # what a reset racing the increment leaves
        conn.execute(sa.delete(t.concurrency_lease_limit))

    await app.state.db.write(drop_links)
    assert await expire_leases(app.state.db) == 1
    assert await _leases(app) == []


# --- rate limits --------------------------------------------------------------------------


async def test_rate_limit_slots_decay(client: httpx.AsyncClient, app: FastAPI) -> None:
    db = app.state.db
    await _create(client, "api", 2, slot_decay_per_second=1.0)
    t0 = _utc()
    limits = await concurrency.increment(db, ["api"], 2, "rate_limit", now=t0)
    assert [limit["name"] for limit in limits] == ["api"]
    with pytest.raises(concurrency.SlotsUnavailable) as refused:
        await concurrency.increment(
            db, ["api"], 1, "rate_limit", now=t0 + dt.timedelta(seconds=0.5)
        )
    # 2.5 - 2 = 0.5 slot too many, at 1 slot per second: half a second (plus jitter).
    assert refused.value.retry_after is not None
    assert 0.5 <= refused.value.retry_after <= 0.5 * 1.25

    later = t0 + dt.timedelta(seconds=1.5)
    assert (await concurrency.read_limit(db, "api", now=later))["active_slots"] == 1  # 0.5 left
    await concurrency.increment(db, ["api"], 1, "rate_limit", now=later)
    row = (await _limits(app))["api"]
    assert row["active_slots"] == pytest.approx(1.5)
    assert row["updated"] == later
    drained = await concurrency.read_limit(db, "api", now=later + dt.timedelta(seconds=10))
    assert drained["active_slots"] == 0


async def test_rate_limit_over_http(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _create(client, "per-second", 1, slot_decay_per_second=10.0)
    # `rate_limit("per-second")` in the client: a plain increment in rate_limit mode.
    response = await client.post(
        f"{V2}/increment", json=_increment(["per-second"], 1, "rate_limit")
    )
    assert response.status_code == 200, response.text
    refused = await client.post(f"{V2}/increment", json=_increment(["per-second"], 1, "rate_limit"))
    assert 0.1 <= _retry_after(refused) <= 0.2
    await asyncio.sleep(0.15)  # 1.5 slots' worth of decay
    response = await client.post(
        f"{V2}/increment", json=_increment(["per-second"], 1, "rate_limit")
    )
    assert response.status_code == 200, response.text


async def test_rate_limit_mode_needs_a_decay(client: httpx.AsyncClient) -> None:
    await _create(client, "steady", 5)
    response = await client.post(f"{V2}/increment", json=_increment(["steady"], 1, "rate_limit"))
    body = assert_error(response, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.mode"
    assert "'steady'" in body["detail"]


# --- racing -------------------------------------------------------------------------------


async def test_concurrent_increments_grant_exactly_the_limit(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _create(client, "race", 5)
    await _create(client, "other", 100)

    async def take(n: int) -> int:
        body = _increment(["race"]) if n % 2 else _with_lease(["other", "race"])
        path = "increment" if n % 2 else "increment-with-lease"
        response = await client.post(f"{V2}/{path}", json=body)
        assert response.status_code in (200, 423), response.text
        return response.status_code

    statuses = await asyncio.gather(*(take(n) for n in range(20)))
    assert statuses.count(200) == 5
    assert statuses.count(423) == 15
    rows = await _limits(app)
    assert rows["race"]["active_slots"] == 5
    assert 1 <= rows["race"]["denied_slots"] <= 15  # those refused since the last grant
    leases = await _leases(app)
    assert rows["other"]["active_slots"] == len(leases) == statuses[0::2].count(200)


async def test_concurrent_releases_give_back_each_slot_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _create(client, "shared", 10)
    granted = [
        (await client.post(f"{V2}/increment-with-lease", json=_with_lease(["shared"]))).json()
        for _ in range(4)
    ]
    assert await _slots(client, "shared") == 4
    db = app.state.db
    releases = [
        client.post(f"{V2}/decrement-with-lease", json={"lease_id": lease["lease_id"]})
        for lease in granted + granted  # each twice, as a cancelled client's cleanup may
    ]
    responses = await asyncio.gather(*releases, expire_leases(db, _utc(1000)))
    assert all(r.status_code == 204 for r in responses[:-1])
    assert await _slots(client, "shared") == 0
    assert await _leases(app) == []


# --- tag limits (v1) ----------------------------------------------------------------------


async def test_tag_limit_crud(client: httpx.AsyncClient, app: FastAPI) -> None:
    # `prefect concurrency-limit create mytag 2`
    response = await client.post(f"{V1}/", json={"tag": "mytag", "concurrency_limit": 2})
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == TAG_LIMIT_KEYS
    assert (created["tag"], created["concurrency_limit"], created["active_slots"]) == (
        "mytag",
        2,
        [],
    )
    # One mechanism: it is the global limit "tag:mytag".
    row = (await _limits(app))["tag:mytag"]
    assert (str(row["id"]), row["limit"], row["active"]) == (created["id"], 2, True)
    assert (await client.get(f"{V2}/tag:mytag")).json()["limit"] == 2

    assert (await client.get(f"{V1}/tag/mytag")).json() == created  # `inspect`
    assert (await client.get(f"{V1}/{created['id']}")).json() == created

    # Creating it again sets the limit.
    response = await client.post(f"{V1}/", json={"tag": "mytag", "concurrency_limit": 4})
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["concurrency_limit"]) == (created["id"], 4)

    await client.post(f"{V1}/", json={"tag": "another", "concurrency_limit": 1})
    await _create(client, "not-a-tag-limit", 1)
    listed = (await client.post(f"{V1}/filter", json={"limit": 15, "offset": 0})).json()  # `ls`
    assert [limit["tag"] for limit in listed] == ["another", "mytag"]
    paged = (await client.post(f"{V1}/filter", json={"limit": 1, "offset": 1})).json()
    assert [limit["tag"] for limit in paged] == ["mytag"]

    other = (await _limits(app))["not-a-tag-limit"]["id"]
    assert_error(await client.get(f"{V1}/{other}"), 404, "not_found")
    assert_error(await client.delete(f"{V1}/{other}"), 404, "not_found")

    assert (await client.delete(f"{V1}/tag/mytag")).status_code == 204  # `delete`
    assert_error(await client.get(f"{V1}/tag/mytag"), 404, "not_found")
    assert_error(await client.delete(f"{V1}/tag/mytag"), 404, "not_found")
    another = listed[0]["id"]
    assert (await client.delete(f"{V1}/{another}")).status_code == 204
    assert set(await _limits(app)) == {"not-a-tag-limit"}


async def test_tag_slots_are_held_by_task_runs(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = (await client.post(f"{V1}/", json={"tag": "db", "concurrency_limit": 1})).json()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    # increment_v1_concurrency_slots: names are tags.
    response = await client.post(
        f"{V1}/increment", json={"names": ["db", "x"], "task_run_id": first}
    )
    assert response.status_code == 200, response.text
    assert response.json() == [{"id": created["id"], "name": "db", "limit": 1}]
    # Asking again for the same task run takes no second slot.
    again = await client.post(f"{V1}/increment", json={"names": ["db"], "task_run_id": first})
    assert again.status_code == 200
    assert (await client.get(f"{V1}/tag/db")).json()["active_slots"] == [first]
    assert await _slots(client, "tag:db") == 1

    refused = await client.post(f"{V1}/increment", json={"names": ["db"], "task_run_id": second})
    assert float(refused.headers["Retry-After"]) > 0
    assert_error(refused, 423, "locked")

    body = {"names": ["db"], "task_run_id": first, "occupancy_seconds": 2.5}
    response = await client.post(f"{V1}/decrement", json=body)
    assert response.status_code == 200
    assert response.json() == [{"id": created["id"], "name": "db", "limit": 1}]
    assert (await client.get(f"{V1}/tag/db")).json()["active_slots"] == []
    assert await _leases(app) == []
    response = await client.post(f"{V1}/increment", json={"names": ["db"], "task_run_id": second})
    assert response.status_code == 200


async def test_task_engine_leases_show_as_tag_slots(client: httpx.AsyncClient) -> None:
    await client.post(f"{V1}/", json={"tag": "gpu", "concurrency_limit": 2})
    task_run = str(uuid.uuid4())
    # What the 3.9.1 task engine sends for a task with tags ["gpu", "fast"].
    body = {"names": ["tag:fast", "tag:gpu"], "slots": 1, "mode": "concurrency",
            "lease_duration": 60, "holder": {"type": "task_run", "id": task_run}}  # fmt: skip
    granted = (await client.post(f"{V2}/increment-with-lease", json=body)).json()
    assert [limit["name"] for limit in granted["limits"]] == ["tag:gpu"]
    assert (await client.get(f"{V1}/tag/gpu")).json()["active_slots"] == [task_run]
    listed = (await client.post(f"{V1}/filter", json={"limit": 15, "offset": 0})).json()
    assert listed[0]["active_slots"] == [task_run]
    await client.post(f"{V2}/decrement-with-lease", json={"lease_id": granted["lease_id"]})
    assert (await client.get(f"{V1}/tag/gpu")).json()["active_slots"] == []


async def test_reset_tag_limit(client: httpx.AsyncClient, app: FastAPI) -> None:
    await client.post(f"{V1}/", json={"tag": "t", "concurrency_limit": 3})
    holders = [str(uuid.uuid4()) for _ in range(3)]
    for holder in holders:
        await client.post(f"{V1}/increment", json={"names": ["t"], "task_run_id": holder})
    assert (await client.get(f"{V1}/tag/t")).json()["active_slots"] == holders

    # `prefect concurrency-limit reset t`
    response = await client.post(f"{V1}/tag/t/reset", json={"slot_override": None})
    assert response.status_code == 204
    assert (await client.get(f"{V1}/tag/t")).json()["active_slots"] == []
    assert await _slots(client, "tag:t") == 0
    assert await _leases(app) == []

    kept = [holders[2], holders[0]]
    response = await client.post(f"{V1}/tag/t/reset", json={"slot_override": kept})
    assert response.status_code == 204
    assert sorted((await client.get(f"{V1}/tag/t")).json()["active_slots"]) == sorted(kept)
    assert await _slots(client, "tag:t") == 2
    assert_error(await client.post(f"{V1}/tag/nope/reset", json={}), 404, "not_found")

    # Deleting the limit frees what its holders held.
    assert (await client.delete(f"{V1}/tag/t")).status_code == 204
    assert await _leases(app) == []


async def test_tag_limit_of_zero_refuses_without_retry_after(client: httpx.AsyncClient) -> None:
    await client.post(f"{V1}/", json={"tag": "never", "concurrency_limit": 0})
    body = {"names": ["never"], "task_run_id": str(uuid.uuid4())}
    response = await client.post(f"{V1}/increment", json=body)
    detail = assert_error(response, 423, "locked")["detail"]
    assert "Retry-After" not in response.headers
    assert "'never'" in detail


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("", {"tag": "x"}, "body.concurrency_limit"),
        ("", {"tag": "x", "concurrency_limit": -1}, "body.concurrency_limit"),
        ("", {"tag": "", "concurrency_limit": 1}, "body.tag"),
        ("increment", {"names": ["x"]}, "body.task_run_id"),
        ("increment", {"names": ["x"], "task_run_id": "nope"}, "body.task_run_id"),
        ("decrement", {"names": [], "task_run_id": str(uuid.uuid4())}, "body.names"),
        ("tag/x/reset", {"slot_override": ["nope"]}, "body.slot_override.0"),
    ],
)
async def test_bad_tag_requests_are_422(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], loc: str
) -> None:
    response = await client.post(f"{V1}/{path}", json=body)
    assert assert_error(response, 422, "invalid")["errors"][0]["loc"] == loc
