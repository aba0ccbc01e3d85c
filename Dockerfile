# Baton in a container: `docker build -t baton .`, or `docker compose -f deploy/docker-compose.yml up`.
# tests/ops/test_dockerfile_install.py performs this file's COPY and pip steps in a fresh
# virtualenv and starts the server the way CMD does; the apt and user steps need Docker itself.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BATON_HOME=/data

# curl for the HEALTHCHECK; postgresql-client for `baton db backup` / `restore` (pg_dump).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home baton

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install -c constraints.txt .

USER baton
EXPOSE 4200
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD curl -f http://localhost:4200/api/health || exit 1
CMD ["baton", "server", "start", "--host", "0.0.0.0"]
