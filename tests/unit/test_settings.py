"""Settings come from the environment; database URLs are checked and normalised up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.errors import ConfigError
from baton.settings import DATABASE_URL_VAR, Settings, mask_url, parse_database_url


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
