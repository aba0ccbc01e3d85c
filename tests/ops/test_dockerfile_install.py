"""The Dockerfile's install steps, performed in a fresh virtualenv, then the server it starts.

No Docker engine runs on our machines. This test does what the image build would do with
Baton's own files: copy the build context (minus .dockerignore) as the COPY steps say, run
the `pip install` steps in a new virtualenv, and start `baton server start` as CMD does,
with the Dockerfile's ENV and the compose file's environment pointed at the test
PostgreSQL (only host, port and database name change; the user and password are the
compose file's). The system steps (apt-get, useradd) and USER are checked by reading them.
It takes about a minute, most of it pip building and installing Baton.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from baton.settings import DATABASE_URL_VAR
from tests.ops.parsing import (
    ROOT,
    dockerignore_patterns,
    dockerignored,
    load_dockerfile,
    load_yaml,
)
from tests.support.postgres import PostgresCluster, bindir, free_port
from tests.support.server import ServerProcess, baton_env

# RUN commands that need a container (root in the image): read, not performed.
SYSTEM_COMMANDS = ("apt-get update", "apt-get install", "rm -rf /var/lib/apt/lists/", "useradd")


def _copy_context(sources: list[str], dest: Path, patterns: list[str]) -> None:
    """COPY sources... dest, from the build context (the repo minus .dockerignore)."""
    for source in sources:
        origin = ROOT / source
        if origin.is_dir():
            target = dest / source if len(sources) > 1 else dest
            for path in sorted(origin.rglob("*")):
                relative = path.relative_to(ROOT).as_posix()
                if path.is_file() and not dockerignored(relative, patterns):
                    out = target / path.relative_to(origin)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, out)
        else:
            assert not dockerignored(source, patterns), f"COPY {source}, but .dockerignore hides it"
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, dest / origin.name)


def _compose_database(cluster: PostgresCluster) -> str:
    """The compose file's database URL, moved to a fresh database of the test cluster."""
    compose = load_yaml((ROOT / "deploy" / "docker-compose.yml").read_text())
    url = make_url(compose["services"]["baton"]["environment"][DATABASE_URL_VAR])
    database = cluster.create_database()
    admin = f"postgresql://{cluster.url().split('://', 1)[1]}"
    psql = [str(bindir() / "psql"), admin, "-qc"]
    exists = subprocess.run(
        [*psql, f"SELECT 1 FROM pg_roles WHERE rolname = '{url.username}'", "-tA"],
        capture_output=True,
        text=True,
        check=True,
    )
    if not exists.stdout.strip():
        role = f"CREATE ROLE {url.username} LOGIN PASSWORD '{url.password}'"
        subprocess.run([*psql, role], check=True, capture_output=True)
    owner = f'ALTER DATABASE "{database}" OWNER TO {url.username}'
    subprocess.run([*psql, owner], check=True, capture_output=True)
    moved = url.set(host="127.0.0.1", port=cluster.port, database=database)
    return moved.render_as_string(hide_password=False)


@pytest.mark.pg
@pytest.mark.timeout(240)
def test_install_steps_and_start(tmp_path: Path, pg_cluster: PostgresCluster) -> None:
    docker = load_dockerfile((ROOT / "Dockerfile").read_text())
    patterns = dockerignore_patterns((ROOT / ".dockerignore").read_text())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**baton_env(tmp_path / "data"), **docker.env}
    env["BATON_HOME"] = str(tmp_path / "data")  # the image's /data, owned by its user
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"

    workdir = tmp_path
    skipped = []
    for kind, step in docker.steps:
        if kind == "WORKDIR":
            workdir = tmp_path / "image" / step.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif kind == "COPY":
            *sources, dest = step
            _copy_context(sources, workdir / dest, patterns)
        else:
            for command in (part.strip() for part in step.split("&&")):
                if command.startswith("pip "):
                    done = subprocess.run(
                        [str(venv / "bin" / "pip"), *shlex.split(command)[1:]],
                        cwd=workdir,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=180,
                    )
                    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
                else:
                    assert command.startswith(SYSTEM_COMMANDS), f"teach this test: RUN {command}"
                    skipped.append(command)
    assert any("apt-get install" in command and "curl" in command for command in skipped)
    assert not list((workdir / "src").rglob("__pycache__")), ".dockerignore lets caches in"

    # The server runs Baton from the virtualenv, not from this checkout.
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import baton; print(baton.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(venv)), where.stdout

    env[DATABASE_URL_VAR] = _compose_database(pg_cluster)
    program, *args = docker.cmd
    assert args[-2:] == ["--host", "0.0.0.0"]
    port = free_port()
    command = [str(venv / "bin" / program), *args[:-2], "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    server = ServerProcess(proc, f"http://127.0.0.1:{port}")
    try:
        server.wait_healthy(timeout=60)
        health = httpx.get(f"{server.api_url}/health")
        assert health.json() == {"status": "healthy"}
        assert httpx.get(f"{server.api_url}/ready").status_code == 200
        # Templates and static files are package data: the UI renders from the install.
        assert httpx.get(server.base_url, follow_redirects=True).status_code == 200
        flow = httpx.post(f"{server.api_url}/flows/", json={"name": "from-the-image"})
        assert flow.status_code in (200, 201), flow.text
    finally:
        _out, err = server.stop()
    assert "Traceback" not in err, err
