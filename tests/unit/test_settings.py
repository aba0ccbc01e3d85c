"""Settings come from the environment; database URLs are checked and normalised up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.errors import ConfigError
from baton.settings import (
    DATABASE_URL_VAR,
    FAST_PATHS,
    Settings,
    declarations,
    mask_url,
    parse_database_url,
)


def test_defaults_put_sqlite_in_baton_home(tmp_path: Path) -> None:
    settings = Settings.from_env({"BATON_HOME": str(tmp_path)})
    assert settings.host == "127.0.0.1"
    assert settings.port == 4200
    assert settings.services is True
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    assert settings.is_sqlite


def test_home_defaults_to_dot_baton(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Settings.from_env({}).home == tmp_path / ".baton"


def test_prefect_variables_are_honoured() -> None:
    settings = Settings.from_env(
        {
            "PREFECT_SERVER_API_HOST": "0.0.0.0",
            "PREFECT_SERVER_API_PORT": "4300",
            DATABASE_URL_VAR: "postgresql+asyncpg://u:p@db:5432/prefect",
            "BATON_DATABASE_CONNECT_TIMEOUT": "2.5",
        }
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 4300)
    assert settings.database_connect_timeout == 2.5
    assert not settings.is_sqlite


def test_overrides_skip_none() -> None:
    base = Settings.from_env({"PREFECT_SERVER_API_PORT": "4300"})
    assert base.with_overrides(port=None, host="::1").port == 4300
    assert base.with_overrides(port=5000).port == 5000


def test_bad_numbers_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="PREFECT_SERVER_API_PORT must be a whole number"):
        Settings.from_env({"PREFECT_SERVER_API_PORT": "http"})


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h:5/d", "postgresql+asyncpg://u:***@h:5/d"),
        ("postgres://u:p@h/d", "postgresql+asyncpg://u:***@h/d"),
    ],
)
def test_driverless_urls_get_the_async_driver(raw: str, normalised: str) -> None:
    assert mask_url(parse_database_url(raw)) == normalised


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://u:p@h/d", "unsupported driver 'mysql'"),
        ("postgresql+psycopg2://u:p@h/d", "unsupported driver 'postgresql+psycopg2'"),
        ("sqlite+aiosqlite://", "must name a SQLite file"),
        ("postgresql+asyncpg://u:p@/d", "must name a host and a database"),
    ],
)
def test_bad_urls_say_what_is_expected(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_database_url(raw)
    text = str(info.value)
    assert message in text
    assert DATABASE_URL_VAR in text
    assert "postgresql+asyncpg://<USER>:<PASSWORD>@<HOST>:<PORT>/<DB_NAME>" in text


def test_mask_hides_passwords() -> None:
    assert mask_url("postgresql+asyncpg://prefect:s3cret@db:5432/prefect") == (
        "postgresql+asyncpg://prefect:***@db:5432/prefect"
    )
    assert "s3cret" not in mask_url("postgresql+asyncpg://prefect:s3cret@db/x")


@pytest.mark.parametrize(
    ("raw", "on"),
    [
        ("1", set(FAST_PATHS)),
        ("all", set(FAST_PATHS)),
        ("0", set()),
        ("off", set()),
        ("compiled,statements", {"compiled", "statements"}),
        ("-inline_reads, -quick_writes", set(FAST_PATHS) - {"inline_reads", "quick_writes"}),
    ],
)
def test_fast_paths_are_switched_by_one_variable(raw: str, on: set[str]) -> None:
    settings = Settings.from_env({"BATON_FAST_PATHS": raw})
    assert settings.fast_paths == on
    assert [settings.fast(layer) for layer in FAST_PATHS] == [p in on for p in FAST_PATHS]
    assert Settings.from_env({}).fast_paths == set(FAST_PATHS)


@pytest.mark.parametrize("raw", ["fast", "compiled,-routing", "-nothing"])
def test_unknown_fast_paths_name_the_ones_there_are(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"BATON_FAST_PATHS must be .*compiled, routing"):
        Settings.from_env({"BATON_FAST_PATHS": raw})


def test_every_declared_variable_is_read() -> None:
    """Each setting with a variable takes its value from it (the table is the only list)."""
    samples = {"BATON_HOME": "/tmp/x", "BATON_AUTH_MODE": "keys", "BATON_FAST_PATHS": "0"}
    for declared in declarations():
        if declared.env is None or declared.env in samples:
            continue
        default = getattr(Settings.from_env({}), declared.name)
        if isinstance(default, bool):
            samples[declared.env] = "false" if default else "true"
        elif isinstance(default, int | float):
            samples[declared.env] = "7"
        else:
            samples[declared.env] = "sqlite:////tmp/a.db" if "DATABASE" in declared.env else "v"
    settings = Settings.from_env(samples)
    for declared in declarations():
        if declared.env is not None:
            assert getattr(settings, declared.name) != getattr(Settings.from_env({}), declared.name)


def test_an_auth_string_implies_basic_and_empty_variables_are_unset() -> None:
    assert Settings.from_env({"PREFECT_SERVER_API_AUTH_STRING": "u:p"}).auth_mode == "basic"
    assert Settings.from_env({"PREFECT_SERVER_API_PORT": ""}).port == 4200


def test_days_refuse_negatives() -> None:
    with pytest.raises(ConfigError, match="BATON_RETENTION_LOGS_DAYS must be 0"):
        Settings.from_env({"BATON_RETENTION_LOGS_DAYS": "-1"})
