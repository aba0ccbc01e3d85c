"""The "run now" form: one input per parameter of a deployment's parameter schema (the JSON
Schema the client makes from the flow's signature), and the posted values read back into
parameters. The schema check itself is the core's (`check_parameters`), so the form and the
API refuse the same values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from baton.ui.forms import Form

PREFIX = "param."


@dataclass
class ParamField:
    name: str
    title: str
    kind: str  # text | integer | number | boolean | select | json
    required: bool
    description: str = ""
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (JSON value, label)
    error: str = ""

    @property
    def input_name(self) -> str:
        return PREFIX + self.name


def _resolve(schema: dict[str, Any], prop: Any) -> dict[str, Any]:
    """Follow a local $ref (pydantic puts enums and models under definitions / $defs)."""
    if not isinstance(prop, dict):
        return {}
    if "allOf" in prop and len(prop["allOf"]) == 1:
        prop = {**prop, **_resolve(schema, prop["allOf"][0])}
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return {**_resolve(schema, target), **{k: v for k, v in prop.items() if k != "$ref"}}
    return dict(prop)


def _kind(prop: dict[str, Any]) -> tuple[str, list[Any]]:
    if "enum" in prop and isinstance(prop["enum"], list):
        return "select", prop["enum"]
    kind = prop.get("type")
    if kind is None and isinstance(prop.get("anyOf"), list):
        kinds = [p for p in prop["anyOf"] if isinstance(p, dict) and p.get("type") != "null"]
        if len(kinds) == 1:
            return _kind(kinds[0])
        return "json", []
    if kind in ("string", "integer", "number", "boolean"):
        return ("text" if kind == "string" else kind), []
    return "json", []


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "boolean":
        return "true" if value else "false"
    return orjson.dumps(value).decode()


def fields_for(schema: dict[str, Any] | None, defaults: dict[str, Any]) -> list[ParamField]:
    """The form's fields, in the signature's order, filled with the deployment's values."""
    if not schema or not isinstance(schema.get("properties"), dict):
        return [
            ParamField(name, name, "json", False, value=_shown("json", value))
            for name, value in sorted(defaults.items())
        ]
    required = set(schema.get("required") or [])
    props = schema["properties"]
    order = sorted(props, key=lambda n: (_resolve(schema, props[n]).get("position", 1e9), n))
    out = []
    for name in order:
        prop = _resolve(schema, props[name])
        kind, choices = _kind(prop)
        default = defaults[name] if name in defaults else prop.get("default")
        options = [(orjson.dumps(c).decode(), str(c)) for c in choices]
        out.append(
            ParamField(
                name=name,
                title=str(prop.get("title") or name),
                kind=kind,
                required=name in required,
                description=str(prop.get("description") or ""),
                value=_shown("json" if kind == "select" else kind, default),
                options=options,
            )
        )
    return out


def read_values(fields: list[ParamField], form: Form) -> dict[str, Any]:
    """The parameters the form sets; empty inputs are left to the deployment's defaults.
    Values that cannot be read get an `error` on their field."""
    params: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.input_name).strip() if f.kind != "text" else form.get(f.input_name)
        f.value = raw
        if raw == "":
            continue
        try:
            params[f.name] = _parse(f.kind, raw)
        except ValueError as exc:
            f.error = str(exc)
    return params


def _parse(kind: str, raw: str) -> Any:
    if kind == "text":
        return raw
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("expected a whole number") from None
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
        return int(number) if number.is_integer() and "." not in raw else number
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError("expected true or false")
        return raw == "true"
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
