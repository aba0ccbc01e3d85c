"""How the CLI reaches a Baton server: where it is, which credential to send, and every
failure turned into one sentence the user can act on (never a traceback).

The environment variables are the Prefect client's, so one shell configuration serves
both `prefect` and `baton`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from baton.cli.output import fail

URL_VAR = "PREFECT_API_URL"
KEY_VAR = "PREFECT_API_KEY"
AUTH_VAR = "PREFECT_API_AUTH_STRING"
DEFAULT_API_URL = "http://127.0.0.1:4200/api"
TIMEOUT_SECONDS = 30.0


class ApiError(Exception):
    """A request that failed; `str(error)` is the whole message to show."""


class Unreachable(ApiError):
    """Nothing answered at the API URL (or it did not answer in time)."""


@dataclass(frozen=True)
class ApiConfig:
    url: str
    api_key: str | None = None
    auth_string: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiConfig:
        env = os.environ if env is None else env
        return cls(
            url=(env.get(URL_VAR) or DEFAULT_API_URL).rstrip("/"),
            api_key=env.get(KEY_VAR) or None,
            auth_string=env.get(AUTH_VAR) or None,
        )

    def headers(self) -> dict[str, str]:
        # An API key wins over the auth string, as in the Prefect client; the auth string
        # is sent whole (base64 of "user:pass"), as that client sends it.
        if self.api_key:
            return {"Authorization": f"Bearer {self.api_key}"}
        if self.auth_string:
            token = base64.b64encode(self.auth_string.encode()).decode()
            return {"Authorization": f"Basic {token}"}
        return {}


class Client:
    """JSON over HTTP to one server. Each call names the `action` it performs (for a 403)
    and, when it addresses one object, the sentence to show if that object is missing."""

    def __init__(
        self,
        config: ApiConfig,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        try:
            self._http = httpx.Client(
                base_url=config.url + "/",
                headers=config.headers(),
                timeout=timeout,
                transport=transport,
            )
        except httpx.InvalidURL as exc:
            raise ApiError(f"{URL_VAR} is not a usable URL ({config.url!r}): {exc}.") from None

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, *, action: str, missing: str | None = None) -> Any:
        return self._send("GET", path, None, action, missing)

    def post(self, path: str, body: Any, *, action: str, missing: str | None = None) -> Any:
        return self._send("POST", path, body, action, missing)

    def patch(self, path: str, body: Any, *, action: str, missing: str | None = None) -> None:
        self._send("PATCH", path, body, action, missing)

    def delete(self, path: str, *, action: str, missing: str | None = None) -> None:
        self._send("DELETE", path, None, action, missing)

    def _send(self, method: str, path: str, body: Any, action: str, missing: str | None) -> Any:
        try:
            response = self._http.request(method, path.lstrip("/"), json=body)
        except httpx.UnsupportedProtocol:
            raise ApiError(
                f"{URL_VAR} must be an http:// or https:// URL, not {self.config.url!r}."
            ) from None
        except httpx.TimeoutException:
            raise Unreachable(
                f"The Baton server at {self.config.url} did not answer within "
                f"{self._http.timeout.read:g} s."
            ) from None
        except httpx.InvalidURL as exc:
            raise ApiError(f"{URL_VAR} is not a usable URL ({self.config.url!r}): {exc}.") from None
        except httpx.TransportError:
            raise Unreachable(self.unreachable_message()) from None
        if response.is_success:
            return _json(response, self.config.url) if response.content else None
        raise ApiError(self._explain(response, action, missing))

    def unreachable_message(self) -> str:
        return (
            f"Cannot reach the Baton server at {self.config.url} "
            f"(set {URL_VAR} to point elsewhere)."
        )

    def _explain(self, response: httpx.Response, action: str, missing: str | None) -> str:
        status, detail = response.status_code, _detail(response)
        if status == 401:
            return self._unauthorized(detail)
        if status == 403:
            return f"Your key's role does not allow you to {action}" + (
                f" ({detail})." if detail else "."
            )
        if status == 404 and missing:
            return missing
        if status in (404, 405):
            # No such route: the URL most likely lacks (or doubles) the /api suffix.
            return (
                f"The server at {self.config.url} has no {response.request.url.path} "
                f"endpoint; is {URL_VAR} right? It usually ends in /api."
            )
        if status < 500:
            return f"Could not {action}: {detail or f'HTTP {status}'}"
        return f"The server failed to {action} (HTTP {status}" + (f": {detail})" if detail else ")")

    def _unauthorized(self, detail: str) -> str:
        why = f" ({detail})" if detail else ""
        if self.config.api_key:
            return f"The server did not accept the API key in {KEY_VAR}{why}."
        if self.config.auth_string:
            return f"The server did not accept the credentials in {AUTH_VAR}{why}."
        return (
            f"The server requires credentials{why}: set {KEY_VAR} to an API key, "
            f'or {AUTH_VAR}="user:password".'
        )


def _json(response: httpx.Response, url: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ApiError(
            f"The server at {url} did not answer with JSON; is {URL_VAR} the API URL "
            "of a Baton server?"
        ) from None


def _detail(response: httpx.Response) -> str:
    """The server's one-sentence `detail`, or the start of whatever else it said."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return str(body)[:200]


@contextmanager
def connect() -> Iterator[Client]:
    """A client for one command; an ApiError ends the command with its message, exit 1."""
    client: Client | None = None
    try:
        client = Client(ApiConfig.from_env())
        yield client
    except ApiError as exc:
        fail(str(exc))
    finally:
        if client is not None:
            client.close()
