"""How one call goes over the wire.

The bearer token (fetched with the client credentials, renewed before it
expires and once when the server answers 401 INVALID_CLIENT_AUTHORIZATION), an
Idempotency-Key on every POST that stays the same on each retry of the call,
retries of 423, 429 and 503 with exponential backoff and jitter, never sooner
than Retry-After (a Retry-After longer than max_retry_after is not waited
for), and every error answer raised as its catalog class.
"""

from __future__ import annotations

import base64
import email.utils
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Union

from .errors import BankfeedConnectionError, BankfeedError, error_class_for
from .routes import ROUTE_BY_OP, Route

#: Statuses retried: the catalog's 423, 429 and 503 (seed 000's rule).
RETRY_STATUSES = frozenset({423, 429, 503})


@dataclass
class RetryInfo:
    """What on_retry is told before each retry."""
    op: str
    attempt: int                   # 1 for the first retry
    status: int                    # 0 after a network failure
    code: Optional[int]            # catalog code of the answer
    retry_after: Optional[int]     # seconds, from Retry-After
    wait: float                    # seconds the client waits now
    idempotency_key: Optional[str]  # the key every attempt of this call sends (POST)


@dataclass
class TokenInfo:
    """What on_token is told after each new token."""
    reason: str                    # initial, expiring (renewed before expiry), rejected (after a 401)
    expires_in: int


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[int]:
    """Seconds of a Retry-After header (delta-seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    if v.isdigit():
        return int(v)
    try:
        when = email.utils.parsedate_to_datetime(v).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0, int(-(-(when - (time.time() if now is None else now)) // 1)))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer of its own: never follow one with the token.
    def redirect_request(self, *args, **kwargs):  # noqa: D401
        return None


class Transport:
    def __init__(self, base_url: str, client_id: Optional[str] = None,
                 client_secret: Optional[str] = None, *,
                 access_token: Optional[str] = None,
                 metrics_token: Optional[str] = None,
                 max_retries: int = 4, retry_base: float = 0.5, retry_max: float = 30.0,
                 max_retry_after: float = 60.0, renew_margin: float = 60.0,
                 timeout: float = 240.0,
                 on_retry: Optional[Callable[[RetryInfo], None]] = None,
                 on_token: Optional[Callable[[TokenInfo], None]] = None,
                 on_attempt: Optional[Callable[[Dict[str, Any]], None]] = None,
                 rng: Optional[Callable[[], float]] = None) -> None:
        if not base_url:
            raise ValueError("bankfeed: base_url is required")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.metrics_token = metrics_token
        self.max_retries = max_retries
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.max_retry_after = max_retry_after
        self.renew_margin = renew_margin
        self.timeout = timeout
        self.on_retry = on_retry
        self.on_token = on_token
        self.on_attempt = on_attempt
        self.rng = rng or random.random
        self._token = access_token
        self._expires_at = float("inf")
        self._margin = 0.0
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(_NoRedirect)

    # ---- the token ---------------------------------------------------------

    def set_access_token(self, token: str, expires_in: float) -> None:
        """Uses token until expires_in seconds from now (then renews it)."""
        self._token = token
        self._expires_at = time.monotonic() + expires_in
        self._margin = min(self.renew_margin, expires_in / 10.0)

    def access_token(self) -> str:
        """A token valid now: the current one, or a new one."""
        tok = self._token
        if tok is not None and time.monotonic() < self._expires_at - self._margin:
            return tok
        return self._renew("initial" if tok is None else "expiring", tok)

    def _renew(self, reason: str, stale: Optional[str]) -> str:
        if self.client_id is None or self.client_secret is None:
            if self._token is not None and reason != "rejected":
                return self._token
            raise ValueError("bankfeed: client_id and client_secret are needed to get a token")
        with self._lock:
            # Another thread renewed it while this one waited: use that.  (A
            # token that is merely expiring is stale too: stale is it then.)
            if self._token is not None and self._token != stale \
                    and time.monotonic() < self._expires_at - self._margin:
                return self._token
            t = self.fetch_token()
            self.set_access_token(t["access_token"], t["expires_in"])
            if self.on_token:
                self.on_token(TokenInfo(reason, t["expires_in"]))
            return t["access_token"]

    def fetch_token(self) -> Dict[str, Any]:
        """POST /oauth/token with the client credentials (HTTP Basic)."""
        return self.call("create_token", body=b"grant_type=client_credentials",
                         content_type="application/x-www-form-urlencoded")

    # ---- retries -----------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        step = min(self.retry_max, self.retry_base * 2 ** (attempt - 1))
        return step / 2 + self.rng() * step / 2      # "equal jitter": half to all of the step

    def _wait(self, attempt: int, retry_after: Optional[int]) -> Optional[float]:
        expo = self._backoff(attempt)
        if retry_after is None:
            return expo
        if retry_after > self.max_retry_after:
            return None
        return max(retry_after + self.rng() * 0.25, expo)

    # ---- one call ----------------------------------------------------------

    def _url(self, route: Route, path: Optional[Mapping[str, str]],
             query: Optional[Mapping[str, Any]]) -> str:
        p = route.path
        for k, v in (path or {}).items():
            if not v:
                raise ValueError(f"bankfeed: {route.op} needs {k}")
            p = p.replace("{" + k + "}", urllib.parse.quote(str(v), safe=""))
        if "{" in p:
            raise ValueError(f"bankfeed: {route.op} needs every part of {route.path}")
        q = []
        for k, v in (query or {}).items():
            if v is None:
                continue
            if k not in route.query:
                raise ValueError(f"bankfeed: {route.op} takes no query parameter {k}")
            q.append((k, "true" if v is True else "false" if v is False else str(v)))
        return self.base_url + p + ("?" + urllib.parse.urlencode(q) if q else "")

    def _headers(self, route: Route, key: Optional[str], request_id: Optional[str],
                 content_type: Optional[str], extra: Optional[Mapping[str, Optional[str]]]) -> Dict[str, str]:
        h = {"Accept": "application/json", "User-Agent": "bankfeed-python/0.1"}
        if request_id:
            h["X-Request-Id"] = request_id
        if key is not None:
            h["Idempotency-Key"] = key
        if content_type:
            h["Content-Type"] = content_type
        for k, v in (extra or {}).items():
            if v is not None:
                h[k] = v
        if route.auth == "bearer":
            h["Authorization"] = "Bearer " + self.access_token()
        elif route.auth == "basic":
            if self.client_id is None or self.client_secret is None:
                raise ValueError("bankfeed: client_id and client_secret are needed")
            pair = f"{urllib.parse.quote(self.client_id)}:{urllib.parse.quote(self.client_secret)}"
            h["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif route.auth == "metrics" and self.metrics_token:
            h["Authorization"] = "Bearer " + self.metrics_token
        return h

    def call(self, op: str, *, path: Optional[Mapping[str, str]] = None,
             query: Optional[Mapping[str, Any]] = None, json_body: Any = None,
             body: Optional[Union[bytes, str]] = None, content_type: Optional[str] = None,
             headers: Optional[Mapping[str, Optional[str]]] = None,
             idempotency_key: Optional[str] = None, request_id: Optional[str] = None) -> Any:
        """Calls the route of op; returns the JSON body (str for text, None for 204).

        Raises the catalog class of an error answer once the retries are
        spent, or BankfeedConnectionError when the server is not reached.
        """
        route = ROUTE_BY_OP[op]
        # The same key on every attempt: a retry of a POST that did reach the
        # server gets the first answer again instead of acting twice.
        key = (idempotency_key or str(uuid.uuid4())) \
            if route.method == "POST" and route.auth != "basic" else None
        url = self._url(route, path, query)
        if json_body is not None:
            data: Optional[bytes] = json.dumps(json_body).encode()
            content_type = "application/json"
        else:
            data = body.encode() if isinstance(body, str) else body
        renewed = False
        attempt = 0
        while True:
            h = self._headers(route, key, request_id, content_type, headers)
            req = urllib.request.Request(url, data=data, method=route.method, headers=h)
            try:
                with self._opener.open(req, timeout=self.timeout) as res:
                    status, rheaders, raw = res.status, res.headers, res.read()
            except urllib.error.HTTPError as res:
                status, rheaders, raw = res.code, res.headers, res.read()
                res.close()
            except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
                if attempt < self.max_retries:
                    attempt += 1
                    wait = self._backoff(attempt)
                    if self.on_retry:
                        self.on_retry(RetryInfo(op, attempt, 0, None, None, wait, key))
                    time.sleep(wait)
                    continue
                raise BankfeedConnectionError(f"bankfeed: {route.method} {url}: {e}") from e
            if self.on_attempt:
                self.on_attempt({"op": op, "method": route.method, "status": status, "idempotency_key": key})
            if status < 400:
                return self._decode(status, rheaders, raw)
            err = self._error(status, rheaders, raw)
            if (status == 401 and route.auth == "bearer" and err.code == 1004
                    and not renewed and self.client_id is not None):
                # The token expired or was refused: one new token, one more try.
                renewed = True
                self._renew("rejected", h["Authorization"][len("Bearer "):])
                continue
            if status in RETRY_STATUSES and attempt < self.max_retries:
                wait = self._wait(attempt + 1, err.retry_after)
                if wait is not None:
                    attempt += 1
                    if self.on_retry:
                        self.on_retry(RetryInfo(op, attempt, status, err.code, err.retry_after, wait, key))
                    time.sleep(wait)
                    continue
            raise err

    def _decode(self, status: int, headers: Any, raw: bytes) -> Any:
        if status == 204 or not raw:
            return None
        if "json" not in (headers.get("Content-Type") or ""):
            return raw.decode("utf-8", "replace")
        try:
            return json.loads(raw)
        except ValueError as e:
            raise BankfeedConnectionError(f"bankfeed: the answer is not JSON ({status})") from e

    def _error(self, status: int, headers: Any, raw: bytes) -> BankfeedError:
        obj: Dict[str, Any] = {}
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
                obj = parsed["error"]
        except ValueError:
            pass
        if not obj:
            obj = {"code": 0, "name": f"HTTP_{status}", "group": "",
                   "description": f"HTTP {status} without an error object", "data": {}, "message": None}
        cls = error_class_for(obj)
        return cls(obj, status, headers.get("X-Request-Id"), parse_retry_after(headers.get("Retry-After")))
