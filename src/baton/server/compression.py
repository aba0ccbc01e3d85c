"""Gzip for large answers, with ISA-L's deflate: at level 1 it is about ten times faster than
zlib and compresses a list of 200 runs better (340 KB → 25 KB in 0.15 ms instead of 1.3 ms),
so bodies are compressed inline instead of being handed to a thread.

Starlette's middleware decides what to compress (size, content type, Accept-Encoding,
streaming); only the compressor changes.
"""

from __future__ import annotations

from typing import Any

from isal import isal_zlib
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

_GZIP_WBITS = 16 + isal_zlib.MAX_WBITS  # a gzip header and trailer, not a raw zlib stream


class _IsalResponder(GZipResponder):
    def __init__(self, app: ASGIApp, minimum_size: int, **kwargs: Any) -> None:
        super().__init__(app, minimum_size, **kwargs)
        self._isal: Any = None

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if self._isal is None:
            self._isal = isal_zlib.compressobj(1, isal_zlib.DEFLATED, _GZIP_WBITS)
        compressed: bytes = self._isal.compress(body)
        tail: bytes = self._isal.flush(isal_zlib.Z_SYNC_FLUSH if more_body else isal_zlib.Z_FINISH)
        return compressed + tail


class FastGZipMiddleware(GZipMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder: ASGIApp
        if "gzip" in Headers(scope=scope).get("Accept-Encoding", ""):
            responder = _IsalResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
        else:
            responder = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
        await responder(scope, receive, send)
