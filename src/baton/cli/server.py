"""`baton server start`: check the port and database, migrate, then serve."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from baton import __version__
from baton.cli.output import fail, note, say
from baton.errors import ConfigError, StartupError
from baton.settings import LOG_FORMATS, LOG_LEVELS, Settings, mask_url

app = typer.Typer(help="Run the Baton server.", no_args_is_help=True)


@app.command()
def start(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on; 0.0.0.0 exposes it.  "
            "[env: PREFECT_SERVER_API_HOST; default: 127.0.0.1]",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on.  [env: PREFECT_SERVER_API_PORT; default: 4200]",
            show_default=False,
            min=1,
            max=65535,
        ),
    ] = None,
    no_services: Annotated[
        bool,
        typer.Option(
            "--no-services", help="Serve the API and UI only; run no background services."
        ),
    ] = False,
    log_level: Annotated[
        str | None,
        typer.Option(
            help=f"One of {', '.join(LOG_LEVELS)}.  [env: BATON_LOG_LEVEL; default: info]",
            show_default=False,
        ),
    ] = None,
    auth: Annotated[
        str | None,
        typer.Option(
            help="Access control: none, basic (PREFECT_SERVER_API_AUTH_STRING) or keys "
            "(API keys from `baton api-key create`).  [env: BATON_AUTH_MODE; default: none, "
            "or basic when PREFECT_SERVER_API_AUTH_STRING is set]",
            show_default=False,
        ),
    ] = None,
    ssl_certfile: Annotated[
        str | None,
        typer.Option(help="Serve HTTPS with this certificate (PEM).", show_default=False),
    ] = None,
    ssl_keyfile: Annotated[
        str | None, typer.Option(help="The certificate's private key (PEM).", show_default=False)
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            help="text, or json (one JSON object per line, for log collectors).  "
            "[env: BATON_LOG_FORMAT; default: text]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the API and UI (default http://127.0.0.1:4200), on SQLite unless
    PREFECT_SERVER_DATABASE_CONNECTION_URL names PostgreSQL."""
    from baton.db.preflight import finish_migration, schema_is_behind, start_migration
    from baton.server.listen import bind_socket

    try:
        settings = Settings.from_env().with_overrides(
            host=host,
            port=port,
            log_level=log_level.lower() if log_level else None,
            log_format=log_format.lower() if log_format else None,
            auth_mode=auth.lower() if auth else None,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            services=False if no_services else None,
        )
        if settings.log_level not in LOG_LEVELS:
            raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
        if settings.log_format not in LOG_FORMATS:
            raise ConfigError(f"--log-format must be one of {', '.join(LOG_FORMATS)}")
        settings.check_auth()
        url = settings.db_url  # validates the database URL before anything starts
        sock = bind_socket(settings.host, settings.port)
        migration = start_migration(url) if asyncio.run(schema_is_behind(settings, note)) else None
        # The app loads while the child migrates (two processes, the machine's cores).
        from baton.server.serve import configure_logging, serve

        if migration is not None:
            finish_migration(migration)
    except (ConfigError, StartupError) as exc:
        fail(str(exc))

    scheme = "https" if settings.ssl_certfile else "http"
    base = f"{scheme}://{_display_host(settings.host)}:{settings.port}"
    say(f"Baton {__version__}", bold=True)
    say(f"  UI        {base}")
    say(f"  API       {base}/api")
    say(f"  Database  {mask_url(url)}" + ("  (schema migrated)" if migration else ""))
    say(f"  Services  {'on' if settings.services else 'off (--no-services)'}")
    say(f"  Access    {_access(settings)}")
    if settings.exposed_without_auth:
        say(
            f"WARNING: listening on {settings.host} with no access control: anyone who can "
            "reach this port can run and change your flows. Use --auth keys (or basic), "
            "and TLS.",
            warning=True,
        )
    say(f"Point Prefect clients here with PREFECT_API_URL={base}/api")
    configure_logging(settings.log_level, settings.log_format)
    serve(settings, sock)


def _display_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _access(settings: Settings) -> str:
    if settings.auth_mode == "keys":
        return "API keys (baton api-key create)"
    if settings.auth_mode == "basic":
        return "basic auth (PREFECT_SERVER_API_AUTH_STRING)"
    return "open (no access control)"
