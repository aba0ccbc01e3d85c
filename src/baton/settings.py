"""One Settings object, built from the environment; CLI flags override it with `with_overrides`.

Each setting is declared once, below: its default, the environment variable it is read from
(Prefect's name where Prefect has one) and how the variable is read. `docs/settings.md` is
generated from these declarations (scripts/gen-cli-docs), so the reference cannot drift.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

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

# The layers that drive a library past its public API for speed (docs/architecture.md):
# BATON_FAST_PATHS turns them off, all at once or one by one.
FAST_PATHS = ("compiled", "routing", "inline_reads", "statements", "quick_writes")

# Driver-less spellings users commonly type, mapped to the async driver Baton uses.
_DRIVER_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}

Reader = Callable[[str, str], Any]  # (variable, raw value) -> the setting's value


def _text(_name: str, raw: str) -> str:
    return raw


def _lower(_name: str, raw: str) -> str:
    return raw.lower()


def _path(_name: str, raw: str) -> Path:
    return Path(raw).expanduser()


def _yes(_name: str, raw: str) -> bool:
    return raw.lower() in ("1", "true", "yes")


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _seconds(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None


def _days(name: str, raw: str) -> float:
    try:
        days = float(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be a number of days (0 keeps forever), got {raw!r}"
        ) from None
    if days < 0:
        raise ConfigError(f"{name} must be 0 (keep forever) or more, got {raw!r}")
    return days


def _fast_paths(name: str, raw: str) -> frozenset[str]:
    """`1` (all, the default), `0` (none), `a,b` (only those) or `-a,-b` (all but those)."""
    value = raw.strip().lower()
    if value in ("1", "on", "all"):
        return frozenset(FAST_PATHS)
    if value in ("0", "off", "none"):
        return frozenset()
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = sorted({item.removeprefix("-") for item in items} - set(FAST_PATHS))
    negated = {item.startswith("-") for item in items}
    if unknown or len(negated) != 1:
        raise ConfigError(
            f"{name} must be 1, 0, a list of fast paths or a list of -fast-paths "
            f"({', '.join(FAST_PATHS)}), got {raw!r}"
        )
    named = {item.removeprefix("-") for item in items}
    return frozenset(FAST_PATHS) - named if negated == {True} else frozenset(named)


def setting(
    default: Any = MISSING,
    env: str | None = None,
    read: Reader = _text,
    *,
    help: str,
    shown: str | None = None,
) -> Any:
    """A setting's declaration: its default (`shown` in words where from_env works it
    out), the environment variable it is read from, how, and what it means."""
    meta = {"env": env, "read": read, "help": help, "shown": shown}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    home: Path = setting(
        env="BATON_HOME",
        read=_path,
        help="Baton's data folder (the SQLite file, generated secrets).",
        shown="`~/.baton`",
    )
    database_url: str = setting(
        env=DATABASE_URL_VAR,
        help="`sqlite+aiosqlite:///PATH` or `postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DB`.",
        shown="SQLite file `baton.db` in `BATON_HOME`",
    )
    host: str = setting(
        "127.0.0.1", "PREFECT_SERVER_API_HOST", help="The address the server listens on."
    )
    port: int = setting(4200, "PREFECT_SERVER_API_PORT", _int, help="The port.")
    log_level: str = setting(
        "info", "BATON_LOG_LEVEL", _lower, help=f"One of {', '.join(LOG_LEVELS)}."
    )
    log_format: str = setting(
        "text", "BATON_LOG_FORMAT", _lower, help="`text`, or `json` (one object per line)."
    )
    # Access control. Unset, the mode is "basic" when an auth string is set, else "none".
    auth_mode: str = setting(
        "none",
        "BATON_AUTH_MODE",
        _lower,
        help="`none`, `basic` or `keys` (`--auth`).",
        shown="`basic` when an auth string is set, else `none`",
    )
    auth_string: str | None = setting(
        None, AUTH_STRING_VAR, help="`user:password` for basic auth, as the reference takes it."
    )
    # With API keys, the Prefect client sends no credentials on /api/events/in (compat
    # surface §5); accepting those anonymous event streams keeps task runs recorded.
    anonymous_events: bool = setting(
        True,
        "BATON_ANONYMOUS_EVENTS",
        _yes,
        help="Under `--auth keys`, accept event streams without credentials.",
    )
    ssl_certfile: str | None = setting(
        None, "BATON_SSL_CERTFILE", help="Serve HTTPS with this certificate (PEM)."
    )
    ssl_keyfile: str | None = setting(
        None, "BATON_SSL_KEYFILE", help="The certificate's private key (PEM)."
    )
    # Signs the UI's session and CSRF cookies; replicas behind one address need the same
    # one. Unset: a random secret made at first start and kept in BATON_HOME/ui-secret.
    ui_secret: str | None = setting(
        None,
        "BATON_UI_SECRET",
        help=f"Signs UI sessions ({MIN_UI_SECRET}+ characters; the same on every replica).",
    )
    services: bool = setting(True, help="Run the background services (`--no-services`).")
    database_connect_timeout: float = setting(
        30.0,
        "BATON_DATABASE_CONNECT_TIMEOUT",
        _seconds,
        help="Seconds to keep retrying an unreachable PostgreSQL at start.",
    )
    fast_paths: frozenset[str] = setting(
        frozenset(FAST_PATHS),
        "BATON_FAST_PATHS",
        _fast_paths,
        help="`1` (all), `0` (none), or which of "
        + ", ".join(f"`{name}`" for name in FAST_PATHS)
        + " to keep (`a,b`) or to turn off (`-a,-b`).",
    )
    sqlite_write_batch: int = setting(
        64, help="SQLite: write jobs the single writer commits in one transaction."
    )
    pg_pool_size: int = setting(10, help="PostgreSQL: pooled connections per server process.")
    pg_max_overflow: int = setting(10, help="PostgreSQL: extra connections under load.")
    # Scheduler: a pass every `scheduler_interval` seconds (and whenever a deployment
    # changes); each schedule gets at least `scheduler_min_runs` runs or
    # `scheduler_min_time` seconds ahead, at most `scheduler_max_runs` or `_max_time`.
    scheduler_interval: float = setting(
        10.0, "BATON_SCHEDULER_INTERVAL", _seconds, help="Seconds between scheduler passes."
    )
    scheduler_min_runs: int = setting(
        3, "BATON_SCHEDULER_MIN_RUNS", _int, help="Runs each schedule gets ahead, at least."
    )
    scheduler_max_runs: int = setting(
        100, "BATON_SCHEDULER_MAX_RUNS", _int, help="Runs each schedule gets ahead, at most."
    )
    scheduler_min_time: float = setting(
        3600.0,
        "BATON_SCHEDULER_MIN_TIME",
        _seconds,
        help="Seconds ahead each schedule is filled, at least.",
    )
    scheduler_max_time: float = setting(
        100 * 86400.0,
        "BATON_SCHEDULER_MAX_TIME",
        _seconds,
        help="Seconds ahead each schedule is filled, at most.",
    )
    # Late runs: Scheduled runs this many seconds past their start are marked Late.
    late_runs_interval: float = setting(
        5.0, "BATON_LATE_RUNS_INTERVAL", _seconds, help="Seconds between late-run passes."
    )
    late_runs_after: float = setting(
        15.0,
        "BATON_LATE_RUNS_AFTER",
        _seconds,
        help="Seconds past its time a Scheduled run becomes Late.",
    )
    # Cleanup: CANCELLING runs older than `cancelling_timeout` seconds become CANCELLED;
    # RUNNING runs whose worker is silent `zombie_after` seconds CRASH; so do runs that
    # missed three of their own heartbeats, and at least `zombie_after` (run_cleanup.py).
    cleanup_interval: float = setting(
        20.0, "BATON_CLEANUP_INTERVAL", _seconds, help="Seconds between run-cleanup passes."
    )
    cancelling_timeout: float = setting(
        300.0,
        "BATON_CANCELLING_TIMEOUT",
        _seconds,
        help="Seconds a run may stay Cancelling before it is Cancelled.",
    )
    zombie_after: float = setting(
        120.0,
        "BATON_ZOMBIE_AFTER",
        _seconds,
        help="Seconds of silence after which a running run is Crashed.",
    )
    # Retention, in days (0 keeps forever), applied every `retention_interval` seconds.
    retention_interval: float = setting(
        600.0, "BATON_RETENTION_INTERVAL", _seconds, help="Seconds between retention passes."
    )
    retention_logs_days: float = setting(
        30.0, "BATON_RETENTION_LOGS_DAYS", _days, help="Days logs are kept (0: forever)."
    )
    retention_events_days: float = setting(
        30.0, "BATON_RETENTION_EVENTS_DAYS", _days, help="Days events are kept (0: forever)."
    )
    retention_flow_runs_days: float = setting(
        90.0,
        "BATON_RETENTION_FLOW_RUNS_DAYS",
        _days,
        help="Days finished flow runs are kept (0: forever).",
    )
    retention_audit_days: float = setting(
        365.0,
        "BATON_RETENTION_AUDIT_DAYS",
        _days,
        help="Days the audit log is kept (0: forever).",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for declared in fields(cls):
            name = declared.metadata["env"]
            raw = env.get(name) if name else None
            if raw:  # set and not empty
                values[declared.name] = declared.metadata["read"](name, raw)
        home = values.setdefault("home", Path.home() / ".baton")
        values.setdefault("database_url", f"sqlite+aiosqlite:///{home / 'baton.db'}")
        values.setdefault("auth_mode", "basic" if values.get("auth_string") else "none")
        return cls(**values)

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

    def fast(self, layer: str) -> bool:
        """Is the fast path `layer` (one of FAST_PATHS) on?"""
        return layer in self.fast_paths

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


@dataclass(frozen=True)
class Declaration:
    name: str
    env: str | None
    default: str  # as the docs show it
    help: str


def declarations() -> list[Declaration]:
    """Every setting as declared, in order (for the generated docs/settings.md)."""
    out = []
    for f in fields(Settings):
        default = f.metadata["shown"] or _shown(f.default)
        out.append(Declaration(f.name, f.metadata["env"], default, f.metadata["help"]))
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, frozenset):
        return "`1` (all)"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


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
