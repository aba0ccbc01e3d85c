"""`baton server start` as a user runs it: a real subprocess, real ports, real databases."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import httpx

from baton.db.migrate import head_revision
from baton.settings import DATABASE_URL_VAR
from tests.support.postgres import PostgresCluster, free_port
from tests.support.server import baton_env, baton_server, run_baton


def test_starts_on_sqlite_in_baton_home_and_says_where(tmp_path: Path) -> None:
    env = baton_env(tmp_path / "home")
    with baton_server(env) as server:
        assert httpx.get(f"{server.api_url}/health").json() == {"status": "healthy"}
        assert httpx.get(f"{server.api_url}/ready").status_code == 200
        response = httpx.post(f"{server.api_url}/flows/", json={"name": "hello"})
        assert response.status_code == 201
        _, err = server.stop()
    db_file = tmp_path / "home" / "baton.db"
    assert f"UI        {server.base_url}" in err
    assert f"API       {server.base_url}/api" in err
    assert f"Database  sqlite+aiosqlite:///{db_file}" in err
    assert f"PREFECT_API_URL={server.base_url}/api" in err
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("SELECT name FROM flow").fetchall() == [("hello",)]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]


def test_environment_sets_port_and_flags_win(tmp_path: Path) -> None:
    env_port, flag_port = free_port(), free_port()
    env = baton_env(tmp_path, PREFECT_SERVER_API_PORT=str(env_port))
    with baton_server(env, port=flag_port) as server:
        assert server.base_url.endswith(f":{flag_port}")
        with socket.socket() as probe:  # nothing listens on the port from the environment
            assert probe.connect_ex(("127.0.0.1", env_port)) != 0


def test_environment_port_is_used_without_a_flag(tmp_path: Path) -> None:
    port = free_port()
    env = baton_env(tmp_path, PREFECT_SERVER_API_PORT=str(port))
    with baton_server(env, port=port, port_flag=False) as server:
        assert httpx.get(f"{server.api_url}/health").status_code == 200


def test_host_all_interfaces(tmp_path: Path) -> None:
    with baton_server(baton_env(tmp_path), "--host", "0.0.0.0") as server:
        _, err = server.stop()
    assert "http://0.0.0.0:" in err


def test_no_services_and_log_level_flags(tmp_path: Path) -> None:
    with baton_server(baton_env(tmp_path), "--no-services", "--log-level", "warning") as server:
        _, err = server.stop()
    assert "Services  off (--no-services)" in err


def test_port_in_use_names_it_and_suggests_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_baton("server", "start", "--port", str(port), env=baton_env(tmp_path))
    assert done.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_log_level(tmp_path: Path) -> None:
    done = run_baton("server", "start", "--log-level", "loud", env=baton_env(tmp_path))
    assert done.returncode == 1
    assert "--log-level must be one of" in done.stderr


def test_malformed_and_unsupported_urls(tmp_path: Path) -> None:
    for url, expected in (
        ("nonsense", "is not a database URL"),
        ("mysql://u:p@localhost/db", "unsupported driver 'mysql'"),
    ):
        done = run_baton("server", "start", env=baton_env(tmp_path, **{DATABASE_URL_VAR: url}))
        assert done.returncode == 1, done.stderr
        assert expected in done.stderr
        assert DATABASE_URL_VAR in done.stderr
        assert "postgresql+asyncpg://<USER>:<PASSWORD>@<HOST>:<PORT>/<DB_NAME>" in done.stderr
        assert "Traceback" not in done.stderr


def test_unreachable_postgres_counts_down_then_names_host_and_port(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    env = baton_env(
        tmp_path,
        **{
            DATABASE_URL_VAR: f"postgresql+asyncpg://u:secret@127.0.0.1:{port}/db",
            "BATON_DATABASE_CONNECT_TIMEOUT": "2",
        },
    )
    done = run_baton("server", "start", "--port", str(free_port()), env=env)
    assert done.returncode == 1
    assert f"Waiting for PostgreSQL at 127.0.0.1:{port} (connection refused)" in done.stderr
    assert "s left" in done.stderr
    assert f"Could not reach PostgreSQL at 127.0.0.1:{port} within 2 s" in done.stderr
    assert "secret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_wrong_password_is_said_at_once(tmp_path: Path, pg_cluster: PostgresCluster) -> None:
    url = pg_cluster.url("postgres", password="wrong")
    env = baton_env(tmp_path, **{DATABASE_URL_VAR: url, "BATON_DATABASE_CONNECT_TIMEOUT": "30"})
    done = run_baton("server", "start", "--port", str(free_port()), env=env, timeout=20)
    assert done.returncode == 1
    assert f"PostgreSQL at 127.0.0.1:{pg_cluster.port} refused the password for user 'baton'" in (
        done.stderr
    )
    assert "Waiting" not in done.stderr
    assert "wrong" not in done.stderr


def test_missing_database_is_named(tmp_path: Path, pg_cluster: PostgresCluster) -> None:
    env = baton_env(tmp_path, **{DATABASE_URL_VAR: pg_cluster.url("no_such_db")})
    done = run_baton("server", "start", "--port", str(free_port()), env=env, timeout=20)
    assert done.returncode == 1
    assert "has no database 'no_such_db'" in done.stderr


def test_starts_on_postgres_and_masks_the_password(
    tmp_path: Path, pg_cluster: PostgresCluster
) -> None:
    url = pg_cluster.url(pg_cluster.create_database())
    with baton_server(baton_env(tmp_path, **{DATABASE_URL_VAR: url})) as server:
        assert httpx.post(f"{server.api_url}/flows/", json={"name": "pg"}).status_code == 201
        assert httpx.get(f"{server.api_url}/ready").status_code == 200
        _, err = server.stop()
    assert f"Database  postgresql+asyncpg://baton:***@127.0.0.1:{pg_cluster.port}/" in err
    assert "baton-test-pw" not in err


def test_a_migration_that_fails_is_named_and_nothing_starts(tmp_path: Path) -> None:
    """Migrations run in a child process (the server then never loads Alembic); its error
    reaches the user. Here the database is at a revision this Baton does not know."""
    home = tmp_path / "home"
    env = baton_env(home)
    assert run_baton("db", "upgrade", env=env, timeout=60).returncode == 0
    with sqlite3.connect(home / "baton.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
    done = run_baton("server", "start", "--port", str(free_port()), env=env, timeout=60)
    assert done.returncode == 1
    assert "Could not migrate the database schema" in done.stderr
    assert "from_the_future" in done.stderr
