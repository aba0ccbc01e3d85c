"""Baton: a self-hosted workflow-orchestration server that speaks the Prefect 3 REST API."""

__version__ = "0.1.0"

# The Prefect server version Baton answers on /api/admin/version, and the REST API
# version of the Prefect client it was built against.
PREFECT_SERVER_VERSION = "3.9.1"
PREFECT_API_VERSION = "0.8.4"
