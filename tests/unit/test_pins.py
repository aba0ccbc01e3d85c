"""The libraries whose private internals the fast paths read are pinned to the minor version
they were tested with, and the installed versions are those."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from baton.settings import FAST_PATHS

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# Each fast path, and the library whose internals it reads (README, "Speed").
READS = {
    "compiled": "fastapi",
    "routing": "fastapi",
    "statements": "sqlalchemy",
    "inline_reads": "aiosqlite",
    "quick_writes": None,  # SQLite's own BEGIN on the driver connection: public APIs only
}


def _pins() -> dict[str, str]:
    """Library name -> the version prefix its `==X.Y.*` pin allows."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    pins = {}
    for requirement in project["dependencies"]:
        found = re.fullmatch(
            r"([A-Za-z0-9_-]+)(?:\[[^\]]*\])?==(\d+\.\d+)\.\*(?:;.*)?", requirement
        )
        if found:
            pins[found.group(1).lower()] = found.group(2)
    return pins


def test_every_fast_path_says_what_it_reads() -> None:
    assert set(READS) == set(FAST_PATHS)


@pytest.mark.parametrize("library", sorted({lib for lib in READS.values() if lib}))
def test_libraries_read_past_their_api_are_pinned_and_installed_as_pinned(library: str) -> None:
    pins = _pins()
    assert library in pins, f"{library} must be pinned to a minor version (==X.Y.*)"
    installed = version(library)
    layers = ", ".join(layer for layer, lib in READS.items() if lib == library)
    assert installed.startswith(pins[library] + "."), (
        f"{library} {installed} is installed, but the fast paths that read its internals "
        f"({layers}) were tested with {pins[library]}.*: run the suite in both modes "
        f"(tests/api runs plain and fast), re-measure with bench/api_bench.py "
        f"--compare-plain, then move the pin in pyproject.toml and constraints.txt"
    )
