"""deploy/docker-compose.yml and the Dockerfile, read as files: no Docker engine runs here.

What Docker itself would do (pull postgres:13-alpine, build the image, run the healthchecks)
is not exercised; test_dockerfile_install.py performs the install and start steps.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from baton.settings import DATABASE_URL_VAR, Settings
from tests.ops.parsing import ROOT, commented_block, load_dockerfile, load_yaml

COMPOSE = ROOT / "deploy" / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PG_URL = "postgresql+asyncpg://prefect:prefect@postgres:5432/prefect"
HEALTH = ["curl", "-f", "http://localhost:4200/api/health"]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(COMPOSE.read_text())
    return loaded


def _command(test: list[str]) -> list[str]:
    """A compose healthcheck `test` as the words it runs."""
    kind, *rest = test
    if kind == "CMD-SHELL":
        return " ".join(rest).split()
    assert kind == "CMD", test
    return rest


def test_services_volume_and_nothing_else(compose: dict[str, Any]) -> None:
    assert set(compose) == {"services", "volumes"}
    assert set(compose["services"]) == {"baton", "postgres"}
    assert compose["volumes"] == {"postgres_data": None}


def test_postgres(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:13-alpine"
    assert postgres["environment"] == {
        "POSTGRES_USER": "prefect",
        "POSTGRES_PASSWORD": "prefect",
        "POSTGRES_DB": "prefect",
    }
    assert postgres["volumes"] == ["postgres_data:/var/lib/postgresql/data"]
    assert _command(postgres["healthcheck"]["test"]) == ["pg_isready", "-U", "prefect"]
    assert "ports" not in postgres, "the database is reachable only inside the compose network"


def test_baton(compose: dict[str, Any]) -> None:
    baton = compose["services"]["baton"]
    context = (COMPOSE.parent / baton["build"]["context"]).resolve()
    assert context == ROOT
    assert (context / baton["build"].get("dockerfile", "Dockerfile")) == DOCKERFILE
    assert baton["ports"] == ["4200:4200"]
    assert baton["environment"] == {DATABASE_URL_VAR: PG_URL}
    assert baton["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert _command(baton["healthcheck"]["test"]) == HEALTH

    # The URL is one Baton accepts, naming the postgres service's user, password and database.
    url = Settings.from_env(baton["environment"]).db_url
    postgres = compose["services"]["postgres"]["environment"]
    assert (url.host, url.port) == ("postgres", 5432)
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert url.database == postgres["POSTGRES_DB"]


def test_the_commented_worker_points_at_baton(compose: dict[str, Any]) -> None:
    worker = load_yaml(commented_block(COMPOSE.read_text(), "worker"))["worker"]
    assert worker["command"] == "prefect worker start --pool default"
    assert worker["environment"] == {"PREFECT_API_URL": "http://baton:4200/api"}
    assert worker["depends_on"] == {"baton": {"condition": "service_healthy"}}
    assert worker["image"].startswith("prefecthq/prefect:3.9.1")


def test_the_dockerfile_agrees(compose: dict[str, Any]) -> None:
    docker = load_dockerfile(DOCKERFILE.read_text())
    assert docker.base.startswith("python:3.11-slim")
    assert docker.user not in ("root", "0", "")
    assert docker.expose == [4200]
    assert compose["services"]["baton"]["ports"] == [f"{docker.expose[0]}:{docker.expose[0]}"]
    assert docker.cmd == ["baton", "server", "start", "--host", "0.0.0.0"]
    assert docker.healthcheck.startswith("--")
    assert "CMD " + " ".join(HEALTH) in docker.healthcheck
    installs = " ".join(step for kind, step in docker.steps if kind == "RUN")
    assert "curl" in installs, "HEALTHCHECK runs curl: the image must install it"
    assert "pip install -c constraints.txt ." in installs


def test_a_real_yaml_parser_reads_the_same(compose: dict[str, Any]) -> None:
    """Cross-check the small reader against PyYAML, where the Prefect virtualenv has it."""
    python = ROOT / ".venv-prefect" / "bin" / "python"
    if not python.exists():
        pytest.skip("no .venv-prefect (make prefect) to cross-check with PyYAML")
    script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
    done = subprocess.run(
        [str(python), "-c", script, str(COMPOSE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == compose


def test_the_reader_refuses_what_it_does_not_know() -> None:
    for text in ("a: &anchor 1", "a: {b: 1}", "a: 1 # comment", "a: |\n  text"):
        with pytest.raises(ValueError, match="outside the YAML subset"):
            load_yaml(text)


def test_compose_mentions_where_backups_are_documented() -> None:
    assert "README.md" in COMPOSE.read_text()
    assert "## Running in production" in (ROOT / "README.md").read_text()


def test_dockerignore_keeps_secrets_and_caches_out() -> None:
    patterns = Path(ROOT / ".dockerignore").read_text().split()
    for needed in (".git", ".venv", ".env", "*.egg-info", "**/__pycache__"):
        assert needed in patterns
