"""Readers for the deployment files, small enough to trust: no Docker and no PyYAML here.

`load_yaml` reads the block-style subset deploy/docker-compose.yml is written in (mappings,
lists of scalars, inline JSON lists, quoted or plain scalars, whole-line comments) and
raises on anything else, so the compose file cannot drift into syntax it does not check.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


# --- YAML subset --------------------------------------------------------------------------


def load_yaml(text: str) -> Any:
    lines = [
        (len(raw) - len(raw.lstrip(" ")), raw.strip())
        for raw in text.splitlines()
        if raw.strip() and not raw.strip().startswith("#")
    ]
    for _, content in lines:
        if "\t" in content or " #" in content or content.startswith(("&", "*", "!", "{")):
            raise ValueError(f"outside the YAML subset this test reads: {content!r}")
    value, end = _block(lines, 0, lines[0][0] if lines else 0)
    if end != len(lines):
        raise ValueError(f"unexpected indentation at {lines[end][1]!r}")
    return value


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if lines[i][1].startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            items.append(_scalar(lines[i][1][2:]))
            i += 1
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+):(?: (.*))?", lines[i][1])
        if match is None:
            raise ValueError(f"not a `key: value` line: {lines[i][1]!r}")
        key, rest = match.groups()
        if key in mapping:
            raise ValueError(f"duplicate key {key!r}")
        i += 1
        if rest is not None:
            mapping[key] = _scalar(rest)
        elif i < len(lines) and lines[i][0] > indent:
            mapping[key], i = _block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    return mapping, i


def _scalar(text: str) -> Any:
    if text.startswith(("[", '"')):
        return json.loads(text)
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    if text.startswith(("{", "|", ">", "&", "*")):
        raise ValueError(f"outside the YAML subset this test reads: {text!r}")
    return text


def commented_block(text: str, key: str) -> str:
    """The YAML of a commented-out block that starts with the line `# key:`, uncommented."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"# {key}:")
    prefix = lines[start][: lines[start].index("#")]
    block = []
    for line in lines[start:]:
        if not line.startswith(prefix + "#"):
            break
        block.append(line[len(prefix) + 2 :])
    return "\n".join(block)


# --- Dockerfile ---------------------------------------------------------------------------


@dataclass
class Dockerfile:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # In order: ("WORKDIR", path), ("COPY", [sources..., dest]), ("RUN", command).
    steps: list[tuple[str, Any]] = field(default_factory=list)
    user: str = "root"
    expose: list[int] = field(default_factory=list)
    healthcheck: str = ""
    cmd: list[str] = field(default_factory=list)


def load_dockerfile(text: str) -> Dockerfile:
    joined = re.sub(r"\\\n", " ", text)
    parsed = Dockerfile()
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        args = args.strip()
        match instruction.upper():
            case "FROM":
                parsed.base = args
            case "ENV":
                for word in shlex.split(args):
                    name, _, value = word.partition("=")
                    parsed.env[name] = value
            case "WORKDIR":
                parsed.steps.append(("WORKDIR", args))
            case "COPY":
                parsed.steps.append(("COPY", shlex.split(args)))
            case "RUN":
                parsed.steps.append(("RUN", args))
            case "USER":
                parsed.user = args
            case "EXPOSE":
                parsed.expose += [int(port) for port in args.split()]
            case "HEALTHCHECK":
                parsed.healthcheck = args
            case "CMD":
                parsed.cmd = json.loads(args)
            case other:
                raise ValueError(f"Dockerfile instruction this test does not know: {other}")
    return parsed


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore `patterns` exclude the context path `relative` (no `!` rules)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("!"):
            raise ValueError("exceptions (!) in .dockerignore: teach dockerignored() them")
        anywhere = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if anywhere != pattern and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], anywhere):
                return True
    return False


def dockerignore_patterns(text: str) -> list[str]:
    return [
        line.strip().rstrip("/")
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
