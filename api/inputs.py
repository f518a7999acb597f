"""Input the database or the JSON encoder cannot take, refused as 422 naming the field (docs/api.md#errors).

PostgreSQL refuses a NUL character in text and a lone UTF-16 surrogate cannot be encoded, so either one
in a path, a query or a JSON body would end as a 500 deep in a handler; JSON's NaN and Infinity are not
JSON at all (and break the 422 that echoes them); an integer beyond 64 bits fits no column. This
middleware checks every string of a request before routing, so no route can forget to.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caretaker import i18n
from caretaker.api.limits import matched_route, send_json

INT64 = 2**63 - 1
MAX_PROBLEMS = 10
_SURROGATE = re.compile("[\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Constant:
    """Where the JSON held NaN, Infinity or -Infinity (json.loads calls parse_constant for them)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _problem(kind: str, loc: list[Any], msg: i18n.Said) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg}


def text_problem(value: str, loc: list[Any]) -> dict[str, Any] | None:
    """Return the problem with one string input, or None."""
    if "\x00" in value:
        return _problem("string_nul", loc, i18n.said("input.string_nul"))
    if _SURROGATE.search(value):
        return _problem("string_unicode", loc, i18n.said("input.string_unicode"))
    return None


def query_problems(query_string: bytes) -> list[dict[str, Any]]:
    """Return the problems with a query string's names and values, as the framework will decode them."""
    problems = []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        problem = text_problem(name, ["query", name]) or text_problem(value, ["query", name])
        if problem:
            problems.append(problem)
    return problems[:MAX_PROBLEMS]


def path_problems(params: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """Return the problems with a request's path parameters (or its whole path, when no route matched)."""
    problems = [p for name, value in params.items() if isinstance(value, str)
                if (p := text_problem(value, ["path", name]))]
    if not params and (p := text_problem(path, ["path"])):
        problems.append(p)
    return problems[:MAX_PROBLEMS]


def body_problems(body: bytes) -> list[dict[str, Any]]:
    """Return the problems with a JSON body: not UTF-8, too deep, NaN or Infinity, integers beyond 64 bits,
    NUL or lone surrogates in any key or string. A body that is simply not JSON is left to the framework's
    own 422 (`json_invalid`)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [_problem("json_invalid", ["body"], i18n.said("input.not_utf8", byte=exc.start))]
    try:
        document = json.loads(text, parse_constant=_Constant)
    except json.JSONDecodeError:
        return []
    except RecursionError:
        return [_problem("json_invalid", ["body"], i18n.said("input.too_deep"))]
    except ValueError:  # an integer of thousands of digits
        return [_problem("int_too_large", ["body"], i18n.said("input.number_too_long"))]
    problems: list[dict[str, Any]] = []
    stack: list[tuple[Any, list[Any]]] = [(document, ["body"])]
    while stack and len(problems) < MAX_PROBLEMS:
        item, loc = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if (p := text_problem(key, loc)) is not None:
                    problems.append(p)
                else:
                    stack.append((value, [*loc, key]))
        elif isinstance(item, list):
            stack.extend((value, [*loc, i]) for i, value in enumerate(item))
        elif isinstance(item, str):
            if (p := text_problem(item, loc)) is not None:
                problems.append(p)
        elif isinstance(item, _Constant) or (isinstance(item, float) and not math.isfinite(item)):
            problems.append(_problem("finite_number", loc, i18n.said("input.not_finite")))
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > INT64:
            problems.append(_problem("int_too_large", loc, i18n.said("input.int_too_large")))
    return problems


def _is_json(scope: Scope) -> bool:
    content_type = Headers(scope=scope).get("content-type")
    if content_type is None:  # FastAPI reads a body without a content type as JSON
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()  # the framework's size limit counts these bytes and stops at it
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replay


class RefuseUnstorableInput:
    """The ASGI middleware; `routes` gives the app's routes, to name a path parameter."""

    def __init__(self, app: ASGIApp, routes: Callable[[], Iterable[Any]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = query_problems(scope.get("query_string", b""))
        path: str = scope["path"]
        if "\x00" in path or _SURROGATE.search(path):
            _, params = matched_route(self.routes(), scope)
            problems += path_problems(params, path)
        if not problems and scope["method"] in _BODY_METHODS and _is_json(scope):
            body = await _read_body(receive)
            problems = body_problems(body) if body else []
            receive = _replay(body, receive)
        if problems:
            await send_json(send, 422, {"detail": problems}, scope=scope)
            return
        await self.app(scope, receive, send)
