"""`baton api-key`, `baton user` and `baton audit`: access control, managed directly on the
database, so the first admin key can be made on the server's host before any key exists."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from typing import Annotated, Any

import typer

from baton.cli.direct import on_database
from baton.cli.output import fail
from baton.cli.parsing import parse_span, since_option
from baton.cli.render import add_row, print_json, say, show, table
from baton.security.roles import Role

keys = typer.Typer(
    help="Create, list and revoke API keys (used with --auth keys).", no_args_is_help=True
)
users = typer.Typer(help="Manage the users who sign in to the web UI.", no_args_is_help=True)
audit = typer.Typer(
    help="Read the audit log of changes made through the API.", no_args_is_help=True
)

ROLES = ", ".join(r.value for r in Role)
KEY_FIELDS = ("id", "name", "role", "prefix", "created", "expires", "last_used", "status")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _role(value: str) -> Role:
    try:
        return Role(value.lower())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a role; roles are {ROLES}") from None


RoleOption = Annotated[str, typer.Option("--role", help=f"One of {ROLES}.")]


@keys.command("create")
def create_key(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. ci or worker-1.")],
    role: RoleOption,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime such as 90d or 12h; default never.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Make a key. It is shown once, here: store it (PREFECT_API_KEY) now."""
    from baton.core.api_keys import create_key as create

    chosen = _role(role)
    until = None
    if expires is not None:
        try:
            until = dt.datetime.now(dt.UTC) + parse_span(expires)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--expires") from None
    made = on_database(lambda db: create(db, name, chosen, until))
    if as_json:
        print_json(made)
        return
    say(f"API key {made['name']!r} ({made['role']}), id {made['id']}:")
    say(made["key"])
    say("It is shown only now; Baton keeps only its hash. Use it as PREFECT_API_KEY.")


@keys.command("ls")
def list_keys(as_json: JsonFlag = False) -> None:
    """Every key, with its role and whether it is active, expired or revoked."""
    from baton.core.api_keys import list_keys as listed

    found = on_database(listed)
    if as_json:
        print_json(found)
        return
    grid = table("Id", "Name", "Role", "Key starts", "Expires", "Last used", "Status")
    for key in found:
        add_row(grid, key["id"], key["name"], key["role"], key["prefix"] + "…",
                key["expires"] or "never", key["last_used"] or "never", key["status"])  # fmt: skip
    show(grid)


@keys.command("revoke")
def revoke_key(
    key: Annotated[str, typer.Argument(help="The key's id, name or shown prefix.")],
) -> None:
    """Revoke a key: requests using it are refused from now on."""
    from baton.core.api_keys import revoke_key as revoke

    done = on_database(lambda db: revoke(db, key))
    say(f"Revoked API key {done['name']!r} ({done['id']}).")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        fail("No terminal to ask for a password on: pass --password-stdin and pipe it in.")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        fail("The two passwords differ.")
    return first


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


@users.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="The name to sign in with.")],
    role: RoleOption,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user (the password is asked for, or read with --password-stdin)."""
    from baton.core.users import add_user as add

    chosen = _role(role)
    password = _password(password_stdin)
    made = on_database(lambda db: add(db, name, chosen, password))
    say(f"Added user {made['name']!r} ({made['role']}).")


@users.command("ls")
def list_users(as_json: JsonFlag = False) -> None:
    """Every user and their role."""
    from baton.core.users import list_users as listed

    found = on_database(listed)
    if as_json:
        print_json(found)
        return
    grid = table("Name", "Role", "Disabled")
    for user in found:
        add_row(grid, user["name"], user["role"], "yes" if user["disabled"] else "no")
    show(grid)


@users.command("remove")
def remove_user(name: Annotated[str, typer.Argument(help="The user to remove.")]) -> None:
    from baton.core.users import remove_user as remove

    on_database(lambda db: remove(db, name))
    say(f"Removed user {name!r}.")


@users.command("passwd")
def set_password(
    name: Annotated[str, typer.Argument(help="The user.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password."""
    from baton.core.users import set_password as set_it

    password = _password(password_stdin)
    on_database(lambda db: set_it(db, name, password))
    say(f"Changed the password of {name!r}.")


@audit.command("ls")
def list_audit(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this key or user.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only after this: 1h, 2d or an ISO time.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The most recent changes first: who, role, action, object, outcome, from where."""
    from baton.core.audit import list_audit as listed

    after = since_option(since)
    found: list[dict[str, Any]] = on_database(lambda db: listed(db, limit, actor, after))
    if as_json:
        print_json(found)
        return
    grid = table("When", "Who", "Role", "Action", "Object", "Status", "From")
    for e in found:
        add_row(grid, e["at"], e["actor"], e["role"] or "", e["action"], e["object"],
                str(e["status"]), e["source"] or "")  # fmt: skip
    show(grid)
