"""Pieces shared by the commands that address deployments and work pools: parsers of
command-line values (run parameters, spans, times), "did you mean" suggestions, and the two
requests the shared client does not offer (a PATCH, and a GET that may find nothing).

A parser that refuses a value raises `typer.BadParameter`: the command line was wrong,
exit 2, with the option named.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Iterable
from typing import Any

import typer

from baton.cli.client import ApiError, Client
from baton.cli.render import parse_since

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_SPAN_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CUTOFF, _MARGIN = 0.6, 0.1  # of difflib ratios
_MISSING = "\0missing"  # never a message the server could send


# --- run parameters --------------------------------------------------------------------


def param_pair(text: str) -> tuple[str, Any]:
    """`key=value`, the value read as JSON when it is JSON (`n=5` is the number 5,
    `on=true` a boolean, `xs=[1,2]` a list) and kept as text otherwise (`name=Ada`)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--param")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def run_parameters(pairs: Iterable[str], params_json: str | None) -> dict[str, Any]:
    """The parameters of `--params` (a JSON object), overridden by each `--param`."""
    parameters: dict[str, Any] = {}
    if params_json is not None:
        try:
            parsed = json.loads(params_json)
        except ValueError as exc:
            raise typer.BadParameter(f"not JSON ({exc})", param_hint="--params") from None
        if not isinstance(parsed, dict):
            raise typer.BadParameter(
                f"must be a JSON object like '{{\"n\": 5}}', not {params_json!r}",
                param_hint="--params",
            )
        parameters.update(parsed)
    parameters.update(param_pair(text) for text in pairs)
    return parameters


# --- spans and times -------------------------------------------------------------------


def parse_span(text: str) -> dt.timedelta:
    """`90s`, `10m`, `1h`, `2d`, `1w`, also combined (`1h30m`)."""
    raw = text.strip().lower()
    if not raw or _SPAN.sub("", raw).strip():
        raise ValueError(f"{text!r} is not a span like 30s, 10m, 1h30m, 2d or 1w")
    return dt.timedelta(seconds=sum(float(n) * _SPAN_SECONDS[u] for n, u in _SPAN.findall(raw)))


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time; local time when it has no offset."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time like 2026-11-27T05:00 or 2026-11-27T05:00:00+00:00"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def span_option(value: str | None) -> dt.timedelta | None:
    if value is None:
        return None
    try:
        return parse_span(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def time_option(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def since_option(value: str | None) -> dt.datetime | None:
    """A span back from now (`2d` is two days ago) or an ISO 8601 time."""
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


# --- suggestions -----------------------------------------------------------------------


def close_matches(word: str, choices: Iterable[tuple[str, str]], count: int = 3) -> list[str]:
    """Of `choices`, (name compared, name shown) pairs, the shown names closest to `word`,
    best first: those nearly as close as the best (names sharing a prefix are all a bit
    close)."""
    scored = []
    for key, shown in choices:
        matcher = difflib.SequenceMatcher(None, word, key)
        if matcher.real_quick_ratio() >= _CUTOFF and matcher.quick_ratio() >= _CUTOFF:
            scored.append((matcher.ratio(), shown))
    scored.sort(key=lambda item: -item[0])
    best = scored[0][0] if scored else 1.0
    close = [shown for ratio, shown in scored if ratio >= max(_CUTOFF, best - _MARGIN)]
    return list(dict.fromkeys(close))[:count]


def did_you_mean(matches: list[str], otherwise: str) -> str:
    """` Did you mean 'a' or 'b'?`, or ` {otherwise}` when nothing is close."""
    if not matches:
        return f" {otherwise}"
    quoted = [repr(match) for match in matches]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f" Did you mean {listed}?"


# --- requests the shared client lacks -------------------------------------------------


def get_or_none(client: Client, path: str, *, action: str) -> Any:
    """GET `path`, or None when the server has nothing there (404)."""
    try:
        return client.get(path, action=action, missing=_MISSING)
    except ApiError as exc:
        if str(exc) == _MISSING:
            return None
        raise
