"""Checking a run's parameters against its deployment's parameter schema (JSON Schema, as
the client generates it from the flow's signature)."""

from __future__ import annotations

from typing import Any

from baton.errors import InvalidInput


def check_parameters(
    schema: dict[str, Any], parameters: dict[str, Any], *, defaults: bool = False
) -> None:
    """Raise InvalidInput naming the first parameter the schema refuses. With `defaults`,
    `parameters` are a deployment's defaults: a required parameter may be left to each run."""
    import jsonschema  # imported on first use: it is heavy and most servers rarely need it

    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidInput(
            f"The deployment's parameter schema is not a valid JSON Schema: {exc.message}",
            loc="parameter_openapi_schema",
        ) from None
    errors = sorted(
        (
            e
            for e in validator_class(schema).iter_errors(parameters)
            if not (defaults and e.validator == "required" and not e.path)
        ),
        key=lambda e: list(map(str, e.path)),
    )
    if not errors:
        return
    error = errors[0]
    if error.path:
        name = str(error.path[0])
    elif error.validator == "required":
        # "'x' is a required property": the missing name is the first quoted word.
        name = str(error.message).split("'")[1] if "'" in error.message else "?"
    else:
        name = "?"
    raise InvalidInput(
        f"Parameter {name!r} is invalid: {error.message}", loc=f"body.parameters.{name}"
    )
