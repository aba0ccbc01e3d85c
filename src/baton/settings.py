"""One Settings object, built from the environment; CLI flags override it with `replace`."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from baton.errors import ConfigError

DATABASE_URL_VAR = "PREFECT_SERVER_DATABASE_CONNECTION_URL"
POSTGRES_URL_FORM = "postgresql+asyncpg://<USER>:<PASSWORD>@<HOST>:<PORT>/<DB_NAME>"
SQLITE_URL_FORM = "sqlite+aiosqlite:///<PATH>"

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("text", "json")
AUTH_MODES = ("none", "basic", "keys")
AUTH_STRING_VAR = "PREFECT_SERVER_API_AUTH_STRING"
MIN_UI_SECRET = 32

# Driver-less spellings users commonly type, mapped to the async driver Baton uses.
_DRIVER_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 4200
    log_level: str = "info"
    log_format: str = "text"
    # Access control: "none", "basic" (PREFECT_SERVER_API_AUTH_STRING) or "keys".
    auth_mode: str = "none"
    auth_string: str | None = None
    # With API keys, the Prefect client sends no credentials on /api/events/in (compat
    # surface §5); accepting those anonymous event streams keeps task runs recorded.
    anonymous_events: bool = True
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    # Signs the UI's session and CSRF cookies; replicas behind one address need the same
    # one. Unset: a random secret made at first start and kept in BATON_HOME/ui-secret.
    ui_secret: str | None = None
    services: bool = True
    database_connect_timeout: float = 30.0
    # SQLite: how many write jobs the single writer commits in one transaction.
    sqlite_write_batch: int = 64
    # PostgreSQL connection pool.
    pg_pool_size: int = 10
    pg_max_overflow: int = 10
    # Scheduler: a pass every `scheduler_interval` seconds (and whenever a deployment
    # changes); each schedule gets at least `scheduler_min_runs` runs or
    # `scheduler_min_time` seconds ahead, at most `scheduler_max_runs` or `_max_time`.
    scheduler_interval: float = 10.0
    scheduler_min_runs: int = 3
    scheduler_max_runs: int = 100
    scheduler_min_time: float = 3600.0
    scheduler_max_time: float = 100 * 86400.0
    # Late runs: Scheduled runs this many seconds past their start are marked Late.
    late_runs_interval: float = 5.0
    late_runs_after: float = 15.0
    # Cleanup: CANCELLING runs older than `cancelling_timeout` seconds become CANCELLED;
    # RUNNING runs whose worker is silent `zombie_after` seconds CRASH; so do runs that
    # missed three of their own heartbeats, and at least `zombie_after` (run_cleanup.py).
    cleanup_interval: float = 20.0
    cancelling_timeout: float = 300.0
    zombie_after: float = 120.0
    # Retention, in days (0 keeps forever), applied every `retention_interval` seconds.
    retention_interval: float = 600.0
    retention_logs_days: float = 30.0
    retention_events_days: float = 30.0
    retention_flow_runs_days: float = 90.0
    retention_audit_days: float = 365.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("BATON_HOME") or Path.home() / ".baton").expanduser()
        url = env.get(DATABASE_URL_VAR) or f"sqlite+aiosqlite:///{home / 'baton.db'}"
        return cls(
            home=home,
            database_url=url,
            host=env.get("PREFECT_SERVER_API_HOST") or "127.0.0.1",
            port=_int(env, "PREFECT_SERVER_API_PORT", 4200),
            log_level=(env.get("BATON_LOG_LEVEL") or "info").lower(),
            log_format=(env.get("BATON_LOG_FORMAT") or "text").lower(),
            auth_mode=(
                env.get("BATON_AUTH_MODE") or ("basic" if env.get(AUTH_STRING_VAR) else "none")
            ).lower(),
            auth_string=env.get(AUTH_STRING_VAR) or None,
            anonymous_events=(env.get("BATON_ANONYMOUS_EVENTS") or "true").lower()
            in ("1", "true", "yes"),
            ssl_certfile=env.get("BATON_SSL_CERTFILE") or None,
            ssl_keyfile=env.get("BATON_SSL_KEYFILE") or None,
            ui_secret=env.get("BATON_UI_SECRET") or None,
            database_connect_timeout=_float(env, "BATON_DATABASE_CONNECT_TIMEOUT", 30.0),
            scheduler_interval=_float(env, "BATON_SCHEDULER_INTERVAL", 10.0),
            scheduler_min_runs=_int(env, "BATON_SCHEDULER_MIN_RUNS", 3),
            scheduler_max_runs=_int(env, "BATON_SCHEDULER_MAX_RUNS", 100),
            scheduler_min_time=_float(env, "BATON_SCHEDULER_MIN_TIME", 3600.0),
            scheduler_max_time=_float(env, "BATON_SCHEDULER_MAX_TIME", 100 * 86400.0),
            late_runs_interval=_float(env, "BATON_LATE_RUNS_INTERVAL", 5.0),
            late_runs_after=_float(env, "BATON_LATE_RUNS_AFTER", 15.0),
            cleanup_interval=_float(env, "BATON_CLEANUP_INTERVAL", 20.0),
            cancelling_timeout=_float(env, "BATON_CANCELLING_TIMEOUT", 300.0),
            zombie_after=_float(env, "BATON_ZOMBIE_AFTER", 120.0),
            retention_interval=_float(env, "BATON_RETENTION_INTERVAL", 600.0),
            retention_logs_days=_days(env, "BATON_RETENTION_LOGS_DAYS", 30.0),
            retention_events_days=_days(env, "BATON_RETENTION_EVENTS_DAYS", 30.0),
            retention_flow_runs_days=_days(env, "BATON_RETENTION_FLOW_RUNS_DAYS", 90.0),
            retention_audit_days=_days(env, "BATON_RETENTION_AUDIT_DAYS", 365.0),
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given fields replaced, skipping those passed as None."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    def check_auth(self) -> None:
        """Raise ConfigError when the access-control settings do not fit together."""
        if self.auth_mode not in AUTH_MODES:
            raise ConfigError(f"--auth must be one of {', '.join(AUTH_MODES)}")
        if self.auth_mode == "basic" and not self.auth_string:
            raise ConfigError(f"--auth basic needs {AUTH_STRING_VAR} set to USER:PASSWORD")
        if self.auth_mode == "basic" and ":" not in (self.auth_string or ""):
            raise ConfigError(f"{AUTH_STRING_VAR} must look like USER:PASSWORD")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ConfigError("TLS needs both --ssl-certfile and --ssl-keyfile")
        if self.ui_secret is not None and len(self.ui_secret) < MIN_UI_SECRET:
            raise ConfigError(f"BATON_UI_SECRET needs at least {MIN_UI_SECRET} characters")

    @property
    def exposed_without_auth(self) -> bool:
        """Listening beyond this machine with no access control."""
        return self.auth_mode == "none" and not is_loopback(self.host)

    @property
    def db_url(self) -> URL:
        return parse_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.get_backend_name() == "sqlite"


def parse_database_url(raw: str) -> URL:
    """Parse and normalise a database URL, or raise ConfigError saying what is expected."""
    expected = f"expected {POSTGRES_URL_FORM} or {SQLITE_URL_FORM}"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"{DATABASE_URL_VAR} is not a database URL: {raw!r}; {expected}"
        ) from None
    driver = _DRIVER_ALIASES.get(url.drivername)
    if driver is None:
        raise ConfigError(
            f"{DATABASE_URL_VAR} names the unsupported driver {url.drivername!r}; {expected}"
        )
    url = url.set(drivername=driver)
    if driver == "sqlite+aiosqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError(f"{DATABASE_URL_VAR} must name a SQLite file; {expected}")
    elif not url.host or not url.database:
        raise ConfigError(
            f"{DATABASE_URL_VAR} must name a host and a database: {mask_url(url)}; {expected}"
        )
    return url


def is_loopback(host: str) -> bool:
    """Is `host` this machine only (127.0.0.0/8, ::1, localhost)?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mask_url(url: URL | str) -> str:
    """The URL with any password replaced by ***, safe to print or log."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None


def _days(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        days = float(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be a number of days (0 keeps forever), got {raw!r}"
        ) from None
    if days < 0:
        raise ConfigError(f"{name} must be 0 (keep forever) or more, got {raw!r}")
    return days
