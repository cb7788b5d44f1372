"""Strict JSON bodies and authentication before the body is read.

* :func:`strict_loads` decodes a request body as UTF-8 JSON and refuses what
  Python's ``json`` would let through: ``NaN``, ``Infinity``, numbers that overflow
  to infinity (``1e400``), integers longer than Python's digit limit, and nesting
  deep enough to overflow the stack. Each is a :class:`json.JSONDecodeError`, which
  FastAPI answers with 422 (non-UTF-8 bodies too, instead of FastAPI's 400).
* :class:`GuardedRoute` checks the bearer token first and only then lets FastAPI
  read and validate the body, through a :class:`StrictJSONRequest`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

__all__ = ["strict_loads", "StrictJSONRequest", "GuardedRoute"]


class _NotFinite(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotFinite(f"{name} is not a valid JSON number; send a finite number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(f"{text} is too large for a number; send a finite number")
    return value


def strict_loads(body: bytes | str) -> Any:
    """Parse JSON strictly; every problem is a :class:`json.JSONDecodeError` with a reason.

    >>> strict_loads(b'{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> strict_loads(b'{"a": NaN}')
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: NaN is not a valid JSON number; send a finite number: line 1 column 1 (char 0)
    """
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"the body is not UTF-8 text (byte {exc.start})", "", 0) from None
    else:
        text = body
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError:
        raise
    except _NotFinite as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    except RecursionError:
        raise json.JSONDecodeError("the JSON is nested too deeply", text, 0) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise json.JSONDecodeError(f"a value cannot be read ({exc})", text, 0) from None


class StrictJSONRequest(Request):
    """A request whose :meth:`json` is :func:`strict_loads`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class GuardedRoute(APIRoute):
    """Authenticate (``FEWTAG_API_TOKEN``), then parse the body strictly, then the endpoint."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        from fewtag.service.deps import check_token, resolve_settings

        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            check_token(request, resolve_settings(request))
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return guarded
