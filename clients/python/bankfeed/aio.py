"""AsyncClient: the methods of Client as coroutines, its iterators as async
iterators (``async for``).  Each request runs on a thread of asyncio's
default executor (``asyncio.to_thread``), so the event loop is never
blocked by the standard library's synchronous HTTP.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, AsyncIterator, Callable, Iterator

from .client import Client

_DONE = object()


def _coroutine(name: str) -> Callable[..., Any]:
    sync = getattr(Client, name)

    @functools.wraps(sync)
    async def method(self: "AsyncClient", *args: Any, **kw: Any) -> Any:
        return await asyncio.to_thread(getattr(self.sync, name), *args, **kw)
    return method


def _async_iterator(name: str) -> Callable[..., AsyncIterator[Any]]:
    sync = getattr(Client, name)

    @functools.wraps(sync)
    async def method(self: "AsyncClient", *args: Any, **kw: Any) -> AsyncIterator[Any]:
        it: Iterator[Any] = getattr(self.sync, name)(*args, **kw)
        while True:
            item = await asyncio.to_thread(next, it, _DONE)
            if item is _DONE:
                return
            yield item
    return method


class AsyncClient:
    """``AsyncClient(base_url, client_id, client_secret, **options)``: Client's options."""

    def __init__(self, base_url: str, client_id: Any = None, client_secret: Any = None, **options: Any) -> None:
        self.sync = Client(base_url, client_id, client_secret, **options)
        self.transport = self.sync.transport

    def set_access_token(self, token: str, expires_in: float) -> None:
        self.sync.set_access_token(token, expires_in)


for _name, _fn in inspect.getmembers(Client, inspect.isfunction):
    if _name.startswith("_") or _name == "set_access_token":
        continue
    setattr(AsyncClient, _name, _async_iterator(_name) if _name.startswith("iter_") else _coroutine(_name))
