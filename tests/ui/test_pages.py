"""The UI in-process against a real database (SQLite and PostgreSQL): every page with data
made over the API, filters, keyset paging, actions through forms, CSRF refusals, escaping."""

from __future__ import annotations

import html
import re
import urllib.parse
from typing import Any

import httpx
import pytest
from markupsafe import escape

from tests.ui.data import HOSTILE, POOL, Seeded, flow_run, logs, seed, set_run_state

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    return await seed(client)


async def token(client: httpx.AsyncClient, path: str = "/runs") -> str:
    """Load a page as a browser would (which sets the CSRF cookie) and read its token."""
    response = await client.get(path)
    found = TOKEN.search(response.text)
    assert found, f"no form token on {path}"
    return html.unescape(found.group(1))


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, str] | list[tuple[str, str]]
) -> httpx.Response:
    """A form post, as a browser sends it."""
    pairs = list(data.items()) if isinstance(data, dict) else data
    return await client.post(
        path,
        content=urllib.parse.urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def api_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/flow_runs/{run_id}")
    run: dict[str, Any] = response.json()
    return run


def names_in(page: str) -> list[str]:
    return [
        html.unescape(n) for n in re.findall(r'<a href="/runs/[0-9a-f-]{36}">([^<]*)</a>', page)
    ]


async def test_every_page_renders(client: httpx.AsyncClient, seeded: Seeded) -> None:
    s = seeded
    pages = {
        "/": ["Flow runs by state", "failing-run", "nightly", POOL],
        "/?window=7d": ["last 7d"],
        "/runs": ["failing-run", "finished-run", "child-subflow", "etl-flow"],
        f"/runs/{s.running_id}": ["Timeline", "extract-0", "child-subflow", "hello from the flow"],
        f"/runs/{s.running_id}?tab=tasks": ["transform-0", "Running"],
        f"/runs/{s.running_id}?tab=subflows": ["child-subflow"],
        f"/runs/{s.running_id}?tab=artifacts": ["report", "rows"],
        f"/runs/{s.running_id}?tab=parameters": ["&#34;n&#34;: 7"],
        f"/runs/{s.running_id}?tab=history": ["Pending", "Running"],
        f"/runs/{s.subflow_id}": ["Parent run", "inner-task-0"],
        f"/runs/{s.failed_id}": ["ValueError: bad row", "Failed"],
        "/flows": ["etl-flow"],
        f"/flows/{s.flow_id}": ["nightly", "Runs, last 7 days"],
        "/deployments": ["nightly", "every day at 09:00 (America/New_York)", POOL],
        f"/deployments/{s.deployment_id}": ["Every day at 09:00", "Run now", "How many rows"],
        "/work-pools": [POOL, "process"],
        f"/work-pools/{POOL}": ["worker-1", "default", "online"],
        "/logs": ["hello from the flow", "etl-flow"],
        "/artifacts": ["report", "rows", "Nightly report"],
        f"/artifacts/{s.artifact_id}": ["<h1>Report</h1>", "<strong>7</strong>", "<table>"],
        "/variables": ["batch_size"],
        f"/variables/{s.variable_id}": ["batch_size", "&#34;rows&#34;: 500"],
        "/events": ["prefect.flow-run.Running", "failing-run"],
        "/concurrency": ["warehouse-writes", "nightly", POOL],
    }
    for path, expected in pages.items():
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        for text in expected:
            assert text in response.text, (path, text)
        assert "Content-Security-Policy" in response.headers


async def test_hostile_text_is_escaped_everywhere(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    escaped = str(escape(HOSTILE))
    for path in ("/runs", f"/runs/{seeded.running_id}", "/", f"/artifacts/{seeded.artifact_id}"):
        text = (await client.get(path)).text
        assert HOSTILE not in text, path
        assert "<script>" not in text.replace('<script src="/static/baton.js', ""), path
    assert escaped in (await client.get("/runs")).text
    deployment = (await client.get(f"/deployments/{seeded.deployment_id}")).text
    assert "Loads the &lt;b&gt;nightly&lt;/b&gt; batch" in deployment
    logs_page = (await client.get(f"/runs/{seeded.running_id}")).text
    assert "boom &lt;b&gt;not bold&lt;/b&gt;" in logs_page


async def test_run_filters(client: httpx.AsyncClient, seeded: Seeded) -> None:
    async def names(query: str) -> set[str]:
        response = await client.get(f"/runs?{query}")
        assert response.status_code == 200
        return set(names_in(response.text))

    assert await names("state=FAILED") == {"failing-run"}
    assert await names("state=COMPLETED&state=FAILED") == {"failing-run", "finished-run"}
    assert await names("q=FINISHED") == {"finished-run"}
    assert await names("tag=blue") == {"finished-run"}
    assert await names(f"deployment={seeded.deployment_id}") == {HOSTILE}
    assert await names(f"pool={POOL}") == {HOSTILE}
    assert HOSTILE in await names(f"flow={seeded.flow_id}&range=24h")
    assert await names("range=1h&state=RUNNING") == {HOSTILE, "child-subflow"}
    assert await names("from=2001-01-01T00:00&to=2001-01-02T00:00") == set()
    assert await names("sort=name&state=COMPLETED&state=FAILED") == {"failing-run", "finished-run"}
    # Malformed values are ignored, not errors.
    assert len(await names("state=NOPE&flow=xyz&limit=7&after=!!")) >= 4


async def test_keyset_paging_walks_every_run_once(client: httpx.AsyncClient) -> None:
    flow = (await client.post("/api/flows/", json={"name": "many", "tags": []})).json()
    for i in range(60):
        await flow_run(client, flow["id"], f"run-{i:02d}")
    seen: list[str] = []
    pages = []
    url = "/runs?limit=25&sort=name"
    while url:
        text = (await client.get(url)).text
        pages.append(url)
        seen += names_in(text)
        found = re.search(r'rel="next" href="([^"]+)"', text)
        url = "/runs" + html.unescape(found.group(1)) if found else ""
    assert seen == [f"run-{i:02d}" for i in range(60)]
    assert len(pages) == 3
    # Back from the last page: the middle page again.
    last = (await client.get(pages[-1])).text
    back = re.search(r'rel="prev" href="([^"]+)"', last)
    assert back
    middle = names_in((await client.get("/runs" + html.unescape(back.group(1)))).text)
    assert middle == [f"run-{i:02d}" for i in range(25, 50)]
    newest = names_in((await client.get("/runs?limit=25")).text)
    assert newest[0] == "run-59"


async def test_bulk_cancel_and_delete(client: httpx.AsyncClient, seeded: Seeded) -> None:
    csrf = await token(client)
    scheduled = await flow_run(
        client, seeded.flow_id, "to-cancel", state={"type": "SCHEDULED", "name": "Scheduled"}
    )
    response = await post(
        client,
        "/runs/bulk",
        [
            ("csrf_token", csrf),
            ("action", "cancel"),
            ("run", scheduled["id"]),
            ("run", seeded.running_id),
            ("run", seeded.completed_id),  # terminal: refused, reported
            ("return_to", "/runs?state=RUNNING"),
        ],
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/runs?state=RUNNING"
    assert (await api_run(client, scheduled["id"]))["state_type"] == "CANCELLED"
    assert (await api_run(client, seeded.running_id))["state_type"] == "CANCELLING"
    assert (await api_run(client, seeded.completed_id))["state_type"] == "COMPLETED"
    notice = (await client.get("/runs?state=RUNNING")).text
    assert "Cancelled 2 runs. 1 refused" in notice
    assert "Cancelled 2 runs" not in (await client.get("/runs")).text  # shown once

    response = await post(
        client,
        "/runs/bulk",
        {"csrf_token": csrf, "action": "delete", "run": seeded.failed_id, "return_to": "//evil"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/runs"  # not an open redirect
    assert (await client.get(f"/api/flow_runs/{seeded.failed_id}")).status_code == 404


async def test_forms_without_a_valid_token_are_refused(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    csrf = await token(client)
    target = f"/runs/{seeded.completed_id}/delete"
    refused = [
        await post(client, target, {}),
        await post(client, target, {"csrf_token": "forged"}),
        await client.post(target, json={"csrf_token": csrf}),
    ]
    stranger = httpx.AsyncClient(transport=client._transport, base_url="http://baton")
    async with stranger:  # another browser: its own cookie does not match this token
        await stranger.get("/runs")
        refused.append(await post(stranger, target, {"csrf_token": csrf}))
        stranger.cookies.clear()
        refused.append(await post(stranger, target, {"csrf_token": csrf}))
    for response in refused:
        assert response.status_code == 403
        assert "did not come from this site" in response.text or "only takes forms" in response.text
    assert (await api_run(client, seeded.completed_id))["state_type"] == "COMPLETED"
    ok = await post(client, target, {"csrf_token": csrf})
    assert ok.status_code == 303
    assert (await client.get(f"/api/flow_runs/{seeded.completed_id}")).status_code == 404


async def test_run_now_form(client: httpx.AsyncClient, seeded: Seeded) -> None:
    path = f"/deployments/{seeded.deployment_id}"
    csrf = await token(client, path)
    good = await post(
        client,
        f"{path}/run",
        {
            "csrf_token": csrf,
            "param.n": "12",
            "param.label": "hello",
            "param.mode": '"slow"',
            "param.extra": '{"k": [1, 2]}',
            "name": "from-the-form",
        },
    )
    assert good.status_code == 303, good.text
    run_id = good.headers["location"].removeprefix("/runs/")
    run = await api_run(client, run_id)
    assert run["name"] == "from-the-form"
    assert run["parameters"] == {"n": 12, "label": "hello", "mode": "slow", "extra": {"k": [1, 2]}}
    assert run["state_type"] == "SCHEDULED"

    unreadable = await post(client, f"{path}/run", {"csrf_token": csrf, "param.n": "twelve"})
    assert unreadable.status_code == 422
    assert "expected a whole number" in unreadable.text
    assert 'value="twelve"' in unreadable.text  # what was typed stays on the form

    refused = await post(client, f"{path}/run", {"csrf_token": csrf, "param.mode": '"medium"'})
    assert refused.status_code == 422
    assert "Parameter &#39;mode&#39; is invalid" in refused.text
    bad_json = await post(client, f"{path}/run", {"csrf_token": csrf, "param.extra": "{oops"})
    assert bad_json.status_code == 422
    assert "not valid JSON" in bad_json.text


async def test_pause_and_resume(client: httpx.AsyncClient, seeded: Seeded) -> None:
    path = f"/deployments/{seeded.deployment_id}"
    csrf = await token(client, path)
    paused = await post(client, f"{path}/pause", {"csrf_token": csrf, "paused": "true"})
    assert paused.status_code == 303
    assert (await client.get(f"/api{path}")).json()["paused"] is True
    page = (await client.get(path)).text
    assert "Deployment paused" in page
    assert ">Resume<" in page
    await post(client, f"{path}/pause", {"csrf_token": csrf, "paused": "false"})
    assert (await client.get(f"/api{path}")).json()["paused"] is False


async def test_run_actions(client: httpx.AsyncClient, seeded: Seeded) -> None:
    csrf = await token(client)
    retried = await post(client, f"/runs/{seeded.running_id}/retry", {"csrf_token": csrf})
    assert retried.status_code == 303
    new = await api_run(client, retried.headers["location"].removeprefix("/runs/"))
    assert new["parameters"] == {"n": 7}
    assert new["deployment_id"] == seeded.deployment_id
    no_deployment = await post(client, f"/runs/{seeded.failed_id}/retry", {"csrf_token": csrf})
    assert "Only runs of a deployment" in (await client.get(no_deployment.headers["location"])).text
    cancelled = await post(client, f"/runs/{seeded.running_id}/cancel", {"csrf_token": csrf})
    assert cancelled.status_code == 303
    assert (await api_run(client, seeded.running_id))["state_type"] == "CANCELLING"
    again = await post(client, f"/runs/{seeded.completed_id}/cancel", {"csrf_token": csrf})
    assert "Not cancelled" in (await client.get(again.headers["location"])).text


async def test_variables_create_edit_delete(client: httpx.AsyncClient, seeded: Seeded) -> None:
    csrf = await token(client, "/variables")
    made = await post(
        client,
        "/variables",
        {"csrf_token": csrf, "name": "region", "value": "eu-north", "tags": "a, b"},
    )
    assert made.status_code == 303
    found = (await client.get("/api/variables/name/region")).json()
    assert found["value"] == "eu-north"
    assert found["tags"] == ["a", "b"]
    bad = await post(client, "/variables", {"csrf_token": csrf, "name": "Bad Name", "value": "1"})
    assert bad.status_code == 422
    assert "lowercase letters" in bad.text
    taken = await post(client, "/variables", {"csrf_token": csrf, "name": "region", "value": "1"})
    assert taken.status_code == 422
    assert "already exists" in taken.text

    edit = f"/variables/{found['id']}"
    saved = await post(
        client, edit, {"csrf_token": csrf, "name": "region", "value": "[1, 2]", "tags": ""}
    )
    assert saved.status_code == 303
    assert (await client.get("/api/variables/name/region")).json()["value"] == [1, 2]
    gone = await post(client, edit, {"csrf_token": csrf, "action": "delete"})
    assert gone.status_code == 303
    assert (await client.get("/api/variables/name/region")).status_code == 404


async def test_live_regions_return_their_partial(client: httpx.AsyncClient, seeded: Seeded) -> None:
    run = seeded.running_id
    page = (await client.get(f"/runs/{run}")).text
    assert f'data-live="/runs/{run}/live/header"' in page
    header = await client.get(f"/runs/{run}/live/header")
    assert header.status_code == 200
    assert "X-Baton-Live" not in header.headers
    assert "<html" not in header.text
    assert "Cancel run" in header.text
    # A running run's duration ticks; a finished run's header stays the same: 304.
    finished = await client.get(f"/runs/{seeded.failed_id}/live/header")
    unchanged = await client.get(
        f"/runs/{seeded.failed_id}/live/header",
        headers={"If-None-Match": finished.headers["etag"]},
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    timeline = await client.get(f"/runs/{run}/live/timeline")
    assert "extract-0" in timeline.text

    first = await client.get(f"/runs/{run}/live/logs")
    cursors = re.findall(r'data-cursor="([^"]+)"', first.text)
    assert len(cursors) == 3
    await logs(client, run, (20, "a brand new line"))
    newer = await client.get(f"/runs/{run}/live/logs", params={"after": cursors[-1]})
    assert "a brand new line" in newer.text
    assert "hello from the flow" not in newer.text
    errors_only = await client.get(f"/runs/{run}/live/logs", params={"level": "40"})
    assert "boom" in errors_only.text
    assert "hello" not in errors_only.text

    await set_run_state(client, run, "COMPLETED")
    done = await client.get(f"/runs/{run}/live/header")
    assert done.headers["X-Baton-Live"] == "done"
    assert "Completed" in done.text
    finished = (await client.get(f"/runs/{seeded.failed_id}")).text
    assert "/live/header" not in finished
    assert "/live/timeline" not in finished
    # Its logs are still followed for a little while: clients flush them in batches.
    assert f'data-live="/runs/{seeded.failed_id}/live/logs' in finished


async def test_log_tab_search_and_download(client: httpx.AsyncClient, seeded: Seeded) -> None:
    run = seeded.running_id
    searched = (await client.get(f"/runs/{run}", params={"q": "boom"})).text
    assert "boom" in searched
    assert "hello from the flow" not in searched
    leveled = (await client.get(f"/runs/{run}", params={"level": "20"})).text
    assert "hello from the flow" in leveled
    assert "debug chatter" not in leveled
    download = await client.get(f"/runs/{run}/logs.txt")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/plain")
    assert "attachment" in download.headers["content-disposition"]
    lines = download.text.splitlines()
    assert len(lines) == 3
    assert "INFO" in lines[0]
    assert lines[0].endswith("hello from the flow")
    assert "boom <b>not bold</b>" in lines[2]  # plain text, as logged


async def test_global_log_search(client: httpx.AsyncClient, seeded: Seeded) -> None:
    assert "boom" in (await client.get("/logs", params={"q": "boom"})).text
    hits = (await client.get("/logs", params={"q": "boom", "level": "50"})).text
    assert "No logs match" in hits
    by_flow = (await client.get("/logs", params={"flow": seeded.flow_id, "range": "1h"})).text
    assert "hello from the flow" in by_flow
    other = (await client.post("/api/flows/", json={"name": "quiet", "tags": []})).json()
    assert "No logs match" in (await client.get("/logs", params={"flow": other["id"]})).text


async def test_unknown_ids_are_html_404s(client: httpx.AsyncClient) -> None:
    for path in (
        "/runs/not-a-uuid",
        "/runs/00000000-0000-0000-0000-000000000000",
        "/flows/00000000-0000-0000-0000-000000000000",
        "/deployments/x",
        "/work-pools/nope",
        "/artifacts/00000000-0000-0000-0000-000000000000",
        "/variables/00000000-0000-0000-0000-000000000000",
        "/static/nope.css",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path


async def test_empty_database_pages(client: httpx.AsyncClient) -> None:
    for path in ("/", "/runs", "/flows", "/deployments", "/work-pools", "/logs", "/artifacts",
                 "/variables", "/events", "/concurrency"):  # fmt: skip
        response = await client.get(path)
        assert response.status_code == 200, path
    assert "No flow runs yet" in (await client.get("/runs")).text


async def test_static_files_are_cached_by_content(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    css = re.search(r'href="(/static/baton\.css\?v=[0-9a-f]+)"', page)
    js = re.search(r'src="(/static/baton\.js\?v=[0-9a-f]+)"', page)
    assert css
    assert js
    response = await client.get(css.group(1))
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["content-type"].startswith("text/css")


async def test_the_favicon_path_answers_nothing_not_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 204
    assert response.content == b""
