"""Generated run names: `adjective-animal`, like "positive-hawk", from the word lists in
run_names.json."""

from __future__ import annotations

import functools
import json
import secrets
from importlib import resources


@functools.cache
def _words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = json.loads(resources.files(__package__).joinpath("run_names.json").read_text())
    return tuple(data["adjectives"]), tuple(data["animals"])


def generate_name() -> str:
    adjectives, animals = _words()
    return f"{secrets.choice(adjectives)}-{secrets.choice(animals)}"
