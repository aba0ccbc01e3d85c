"""`baton db upgrade/downgrade/current`, on the database the environment names."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.db.migrate import head_revision
from baton.settings import DATABASE_URL_VAR
from tests.support.server import baton_env, run_baton


def test_current_upgrade_downgrade(tmp_path: Path, database_url: str) -> None:
    env = baton_env(tmp_path, **{DATABASE_URL_VAR: database_url})
    head = head_revision()

    done = run_baton("db", "current", env=env)
    assert done.returncode == 0, done.stderr
    assert "No schema yet" in done.stdout

    done = run_baton("db", "upgrade", env=env)
    assert done.returncode == 0, done.stderr
    assert run_baton("db", "current", env=env).stdout.strip() == f"{head} (head)"

    done = run_baton("db", "downgrade", "base", env=env)
    assert done.returncode == 0, done.stderr
    assert "No schema yet" in run_baton("db", "current", env=env).stdout

    assert run_baton("db", "upgrade", env=env).returncode == 0
    assert run_baton("db", "current", env=env).stdout.strip() == f"{head} (head)"


def test_unknown_revision_is_refused(tmp_path: Path) -> None:
    done = run_baton("db", "downgrade", "nope", env=baton_env(tmp_path))
    assert done.returncode == 1
    assert "Unknown revision 'nope'; known revisions: base, 0001" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["mysql://x@y/z", "garbage"])
def test_bad_url_is_one_line(tmp_path: Path, url: str) -> None:
    done = run_baton("db", "current", env=baton_env(tmp_path, **{DATABASE_URL_VAR: url}))
    assert done.returncode == 1
    assert DATABASE_URL_VAR in done.stderr
    assert "Traceback" not in done.stderr
