"""uvicorn, configured from :class:`ServiceSettings`: timeouts, head size and concurrency limits.

=================================  =========================================================
``timeout_keep_alive``             an idle keep-alive connection is closed after this
``header_timeout``                 a connection that has not sent a whole request head
                                   (request line and headers) in this time is closed;
                                   uvicorn has no such timeout, so :func:`protocol_class`
                                   adds one to its HTTP protocol
``body_timeout``                   the body must arrive within this (408 otherwise;
                                   :class:`~fewtag.service.middleware.BodyLimitMiddleware`)
``max_header_bytes``               h11's ``max_incomplete_event_size``: a larger request
                                   head is refused (400) before it is buffered further
``limit_concurrency``              connections and tasks at once; more get 503
``timeout_graceful_shutdown``      seconds in-flight requests get when the server stops
=================================  =========================================================

The server runs uvicorn's h11 protocol, whose head-size limit is configurable
(httptools has none to set).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fewtag.service.settings import ServiceSettings

__all__ = ["protocol_class", "server_config"]


def protocol_class(header_timeout: float) -> type:
    """uvicorn's ``H11Protocol`` that closes a connection sending its request head too slowly.

    A timer starts when the connection opens and again after each response; if the
    app has not been called (no whole request head arrived) when it fires, the
    connection is closed. ``timeout_keep_alive`` still closes idle connections sooner.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            inner = self.app
            self._heads = 0
            self._head_timer: asyncio.TimerHandle | None = None

            async def app(scope: Any, receive: Any, send: Any) -> None:
                self._heads += 1
                await inner(scope, receive, send)

            self.app = app

        def _arm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(header_timeout, self._head_expired, self._heads)

        def _head_expired(self, heads: int) -> None:
            if self._heads == heads and not self.transport.is_closing():
                self.logger.info("closing a connection that sent no whole request head in %g s", header_timeout)
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

    return HeaderTimeoutH11Protocol


def server_config(
    app: Any, settings: ServiceSettings, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info"
) -> Any:
    """A ``uvicorn.Config`` for ``app`` with the settings' timeouts and limits."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=protocol_class(settings.header_timeout),
        timeout_keep_alive=settings.timeout_keep_alive,
        timeout_graceful_shutdown=settings.timeout_graceful_shutdown,
        limit_concurrency=settings.limit_concurrency,
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )
