"""`baton version`: what this CLI is, what it speaks, and what the server it points at says.

It never fails on account of the server: "which server am I talking to, is it up?" is one
of the questions it exists to answer.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated

import typer
from rich.table import Table

from baton import PREFECT_API_VERSION, PREFECT_SERVER_VERSION, __version__
from baton.cli.client import ApiConfig, ApiError, Client, Unreachable
from baton.cli.render import add_row, print_json, show

# The keys of the object `version --json` prints.
VERSION_KEYS = (
    "baton_version",
    "prefect_server_version",
    "prefect_api_version",
    "api_url",
    "server_version",
    "server_error",
)
SERVER_TIMEOUT_SECONDS = 5.0


def show_version(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help=f"Print a JSON object with the keys {', '.join(VERSION_KEYS)}."
        ),
    ] = False,
) -> None:
    """Show Baton's version, the Prefect version it is compatible with, and the version the
    server at PREFECT_API_URL reports ("unreachable" when it does not answer)."""
    config = ApiConfig.from_env()
    baton_version = _baton_version()
    server_version, server_error = _server_version(config)
    info = {
        "baton_version": baton_version,
        "prefect_server_version": PREFECT_SERVER_VERSION,
        "prefect_api_version": PREFECT_API_VERSION,
        "api_url": config.url,
        "server_version": server_version,
        "server_error": server_error,
    }
    if as_json:
        print_json(info)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    add_row(grid, "Baton", baton_version)
    add_row(grid, "Prefect", f"{PREFECT_SERVER_VERSION} (REST API {PREFECT_API_VERSION})")
    add_row(grid, "API URL", config.url)
    add_row(grid, "Server", server_version or server_error or "-")
    show(grid)


def _baton_version() -> str:
    try:
        return package_version("baton")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return __version__


def _server_version(config: ApiConfig) -> tuple[str | None, str | None]:
    """(version, None) from the server, or (None, why not)."""
    try:
        client = Client(config, timeout=SERVER_TIMEOUT_SECONDS)
    except ApiError as exc:
        return None, str(exc)
    try:
        return str(client.get("admin/version", action="read the server version")), None
    except Unreachable:
        return None, "unreachable"
    except ApiError as exc:
        return None, str(exc)
    finally:
        client.close()
