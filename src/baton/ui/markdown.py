"""Artifacts as HTML, safely: markdown without raw HTML (markdown-it's "js-default" preset
escapes it and refuses javascript: links), no remote images (the page loads nothing from
elsewhere), tables as tables, everything else as escaped JSON."""

from __future__ import annotations

from typing import Any

import orjson
from markupsafe import Markup

from baton.ui.format import pretty_json

MAX_TABLE_ROWS = 1000


def render_markdown(text: str) -> Markup:
    from markdown_it import MarkdownIt  # on first use: most servers never render an artifact

    md = MarkdownIt("js-default", {"html": False, "linkify": False}).enable("table")
    md.disable("image")
    return Markup(md.render(text))


def table_of(data: Any) -> tuple[list[str], list[list[Any]]] | None:
    """A table artifact's columns and rows: a list of records or a dict of columns."""
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        columns = list(dict.fromkeys(k for r in data for k in r))
        return columns, [[r.get(c) for c in columns] for r in data[:MAX_TABLE_ROWS]]
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        columns = list(data)
        length = max(len(v) for v in data.values())
        rows = [
            [data[c][i] if i < len(data[c]) else None for c in columns]
            for i in range(min(length, MAX_TABLE_ROWS))
        ]
        return columns, rows
    if isinstance(data, list) and data and all(isinstance(r, list) for r in data):
        width = max(len(r) for r in data)
        return [str(i + 1) for i in range(width)], [list(r) for r in data[:MAX_TABLE_ROWS]]
    return None


def render_artifact(kind: str | None, data: Any) -> dict[str, Any]:
    """What the artifact page shows: {"markdown": Markup} | {"table": ...} | {"json": str}."""
    if isinstance(data, str) and kind in ("markdown", "link", None, "result", "image"):
        return {"markdown": render_markdown(data)}
    if kind == "table":
        if isinstance(data, str):  # the client sends tables as JSON text
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError:
                return {"json": data}
        table = table_of(data)
        if table is not None:
            return {"table": table}
    if kind == "progress" and isinstance(data, int | float):
        return {"progress": max(0.0, min(float(data), 100.0))}
    return {"json": data if isinstance(data, str) else pretty_json(data)}
