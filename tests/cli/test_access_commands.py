"""`baton api-key`, `baton user` and `baton audit` on the database directly, and the HTTP
commands against a server that checks access: they say which credential is missing or
which role refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.server import baton_env, baton_server, run_baton


def test_keys_users_and_the_audit_log(tmp_path: Path) -> None:
    env = baton_env(tmp_path / "home", BATON_AUTH_MODE="keys")
    made = run_baton("api-key", "create", "--name", "ci", "--role", "developer", "--json", env=env)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert {"id", "name", "role", "key"} <= set(key)
    assert key["role"] == "developer"
    assert key["key"].startswith("baton_")
    viewer = run_baton("api-key", "create", "--name", "look", "--role", "viewer", "--json", env=env)
    viewer_key = json.loads(viewer.stdout)["key"]
    shown = run_baton(
        "api-key", "create", "--name", "x", "--role", "worker", "--expires", "90d", env=env
    )
    assert shown.returncode == 0
    assert "shown only now" in shown.stdout

    listed = run_baton("api-key", "ls", "--json", env=env)
    keys = json.loads(listed.stdout)
    assert [k["name"] for k in keys] == ["ci", "look", "x"]
    assert all("key" not in k for k in keys)  # never shown again
    assert keys[2]["expires"] is not None
    assert key["key"] not in listed.stdout
    table = run_baton("api-key", "ls", env=env)
    assert "ci" in table.stdout
    assert "active" in table.stdout

    with baton_server(env) as server:
        api = {"PREFECT_API_URL": server.api_url}
        missing = run_baton("flow-run", "ls", env={**env, **api})
        assert missing.returncode == 1
        assert "PREFECT_API_KEY" in missing.stderr
        assert "Traceback" not in missing.stderr
        wrong = run_baton("flow-run", "ls", env={**env, **api, "PREFECT_API_KEY": "baton_nope"})
        assert "did not accept the API key in PREFECT_API_KEY" in wrong.stderr
        read = run_baton("flow-run", "ls", env={**env, **api, "PREFECT_API_KEY": viewer_key})
        assert read.returncode == 0, read.stderr
        refused = run_baton(
            "work-pool", "create", "p1", env={**env, **api, "PREFECT_API_KEY": viewer_key}
        )
        assert refused.returncode == 1
        assert "role does not allow" in refused.stderr
        allowed = run_baton(
            "work-pool", "create", "p1", env={**env, **api, "PREFECT_API_KEY": key["key"]}
        )
        assert allowed.returncode == 0, allowed.stderr

    audit = run_baton("audit", "ls", "--json", env=env)
    entries = json.loads(audit.stdout)
    outcomes = {(e["actor"], e["action"], e["status"]) for e in entries}
    assert ("ci", "POST /api/work_pools/", 201) in outcomes
    assert ("look", "POST /api/work_pools/", 403) in outcomes

    revoked = run_baton("api-key", "revoke", "look", env=env)
    assert revoked.returncode == 0, revoked.stderr
    statuses = {
        k["name"]: k["status"]
        for k in json.loads(run_baton("api-key", "ls", "--json", env=env).stdout)
    }
    assert statuses["look"] == "revoked"
    unknown = run_baton("api-key", "revoke", "nobody", env=env)
    assert unknown.returncode == 1
    assert "No API key" in unknown.stderr
    bad_role = run_baton("api-key", "create", "--name", "y", "--role", "boss", env=env)
    assert bad_role.returncode == 2
    assert "roles are admin, developer, worker, viewer" in bad_role.stderr

    def user(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "baton", "user", *args],
            env=env, input=password, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    added = user(
        "add", "alice", "--role", "developer", "--password-stdin", password="s3cret-pass\n"
    )
    assert added.returncode == 0, added.stderr
    again = user("add", "alice", "--role", "viewer", "--password-stdin", password="s3cret-pass\n")
    assert again.returncode == 1
    assert "already exists" in again.stderr
    short = user("add", "bob", "--role", "viewer", "--password-stdin", password="short\n")
    assert short.returncode == 1
    assert "at least 8 characters" in short.stderr
    assert json.loads(user("ls", "--json").stdout) == [
        {"id": json.loads(user("ls", "--json").stdout)[0]["id"], "name": "alice",
         "role": "developer", "disabled": False}
    ]  # fmt: skip
    assert user("passwd", "alice", "--password-stdin", password="another-pass\n").returncode == 0
    assert user("remove", "alice").returncode == 0
    assert user("remove", "alice").returncode == 1
