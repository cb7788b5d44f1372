"""ASGI middleware: a request body limit (413) and time limit (408), and request metrics."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fewtag.service.metrics import Metrics

__all__ = ["BodyLimitMiddleware", "MetricsMiddleware"]

Scope = dict[str, Any]


async def _send_json(send: Any, status: int, detail: str, *, close: bool = False) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Read each request body up front: 413 past ``max_bytes``, 408 past ``timeout`` seconds.

    A declared ``Content-Length`` over the limit is answered at once. Otherwise the
    body (declared or chunked) is read before the app sees anything, so a client that
    sends it slowly holds a connection for at most ``timeout`` seconds, not forever.
    """

    def __init__(self, app: Any, max_bytes: int, timeout: float = 30.0):
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = (
            f"The request body is larger than the limit of {self.max_bytes} bytes; "
            "send fewer or shorter items per request."
        )
        declared, chunked = None, False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared > self.max_bytes:
            await _send_json(send, 413, detail, close=True)
            return
        if not chunked and not declared:
            await self.app(scope, receive, send)  # no body to wait for
            return
        messages, received = [], 0
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except TimeoutError:
                await _send_json(
                    send,
                    408,
                    f"The request body did not arrive within {self.timeout:g} seconds; send it at once.",
                    close=True,
                )
                return
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await _send_json(send, 413, detail, close=True)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replay_receive() -> Any:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replay_receive, send)


class MetricsMiddleware:
    """Count requests and time them, by method, route path and status."""

    def __init__(self, app: Any, metrics: Metrics, paths: set[str]):
        self.app, self.metrics, self.paths = app, metrics, paths

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            path = scope.get("path", "")
            self.metrics.request(
                scope.get("method", ""), path if path in self.paths else "other", status, time.perf_counter() - start
            )
