"""What the edit forms share: reading a posted form into a request body of the API's own
models (so the UI refuses exactly what the API refuses), and turning a refusal into one plain
message per form field, for the page to show next to that field with a 422."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from baton.errors import BatonError
from baton.ui.forms import Form

Problems = dict[str, str]


class FormProblem(Exception):
    """A form value refused before or by the core: the field it names and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def problems_of(exc: ValidationError, fields: Mapping[str, str] | None = None) -> Problems:
    """One message per form field, first error wins. `fields` maps a body key to the form
    field that fills it when the two are named differently."""
    out: Problems = {}
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else "form"
        field = (fields or {}).get(key, key)
        message = str(error["msg"]).removeprefix("Value error, ")
        out.setdefault(field, message)
    return out


def refusal(exc: BatonError, field: str) -> Problems:
    """A core refusal (409 name taken, 422 invalid) shown at `field`; a 404 is not a form
    problem and is raised again for the error page."""
    if exc.status_code == 404:
        raise exc
    return {field: exc.detail}


def text_or_none(form: Form, name: str) -> str | None:
    value = form.get(name).strip()
    return value or None


def tag_list(form: Form, name: str = "tags") -> list[str]:
    return [tag.strip() for tag in form.get(name).split(",") if tag.strip()]


def json_object(form: Form, name: str) -> dict[str, Any]:
    """The field as a JSON object ({} when empty); FormProblem naming it otherwise."""
    raw = form.get(name).strip()
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FormProblem(name, f"This is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise FormProblem(name, 'Expected a JSON object, such as {"n": 5}.')
    return value


def checked(form: Form, name: str) -> bool:
    """An HTML checkbox: sent (with any value) when ticked, absent otherwise."""
    return name in form
