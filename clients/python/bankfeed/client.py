"""The client: one method per route of docs/openapi.yaml (its operationId in
snake case), answers as the dataclasses of models.py, and iterators over the
pages of the lists and over the incremental feed GET /v1/transactions/sync.

Client is synchronous (urllib); AsyncClient (aio.py) offers the same methods
as coroutines and the iterators as async iterators.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from . import models as m
from .transport import Transport


class Client:
    """bankfeed API client.

    ``Client("http://127.0.0.1:8080", client_id, client_secret)``; the other
    keyword arguments are Transport's: ``max_retries`` (4), ``retry_base``
    (0.5 s), ``retry_max`` (30 s), ``max_retry_after`` (60 s: a longer
    Retry-After is raised, not waited for), ``renew_margin`` (60 s, at most a
    tenth of the token's life), ``timeout`` (240 s per attempt),
    ``metrics_token``, ``access_token``, ``on_retry``, ``on_token``,
    ``on_attempt``.  Every method also takes ``idempotency_key`` (POST; one
    is made when left out) and ``request_id`` (sent as X-Request-Id).
    """

    def __init__(self, base_url: str, client_id: Optional[str] = None,
                 client_secret: Optional[str] = None, **options: Any) -> None:
        self.transport = Transport(base_url, client_id, client_secret, **options)

    def set_access_token(self, token: str, expires_in: float) -> None:
        """Uses token until expires_in seconds from now."""
        self.transport.set_access_token(token, expires_in)

    def _call(self, op: str, model: Optional[type] = None, **kw: Any) -> Any:
        out = self.transport.call(op, **kw)
        return m.from_json(model, out) if model is not None and isinstance(out, dict) else out

    # ---- meta and authentication ------------------------------------------

    def get_health(self, **kw: Any) -> m.Health:
        return self._call("get_health", m.Health, **kw)

    def get_metrics(self, **kw: Any) -> str:
        """Prometheus text; needs the metrics_token option."""
        return self._call("get_metrics", **kw)

    def create_token(self) -> m.TokenResponse:
        """A new access token (the client gets its own; this is for your use)."""
        return m.from_json(m.TokenResponse, self.transport.fetch_token())

    def list_errors(self, **kw: Any) -> m.ErrorCatalogList:
        return self._call("list_errors", m.ErrorCatalogList, **kw)

    # ---- institutions ------------------------------------------------------

    def list_institutions(self, country: Optional[str] = None, q: Optional[str] = None,
                          **kw: Any) -> m.InstitutionList:
        return self._call("list_institutions", m.InstitutionList, query={"country": country, "q": q}, **kw)

    def get_institution(self, id: str, **kw: Any) -> m.Institution:
        return self._call("get_institution", m.Institution, path={"id": id}, **kw)

    # ---- users -------------------------------------------------------------

    def create_user(self, external_ref: Optional[str] = None, **kw: Any) -> m.User:
        return self._call("create_user", m.User, json_body=m.to_json(m.UserCreate(external_ref)), **kw)

    def list_users(self, external_ref: Optional[str] = None, limit: Optional[int] = None,
                   cursor: Optional[str] = None, **kw: Any) -> m.UserList:
        return self._call("list_users", m.UserList,
                          query={"external_ref": external_ref, "limit": limit, "cursor": cursor}, **kw)

    def iter_users(self, **params: Any) -> Iterator[m.User]:
        return self._items(self.list_users, params)

    def get_user(self, id: str, **kw: Any) -> m.User:
        return self._call("get_user", m.User, path={"id": id}, **kw)

    def delete_user(self, id: str, **kw: Any) -> None:
        self._call("delete_user", path={"id": id}, **kw)

    # ---- statements --------------------------------------------------------

    def import_statement(self, user_id: str, file: Union[bytes, str], *,
                         filename: Optional[str] = None, content_type: str = "application/octet-stream",
                         format: Optional[str] = None, wait_seconds: Optional[int] = None,
                         strict: Optional[bool] = None, **kw: Any) -> m.Task:
        """Uploads a statement file (camt.053/.052/.054, MT940/MT942, OFX, CODA, BAI2,
        or a ZIP archive of them) as the raw body; its import task.  strict=True
        rejects what a lenient import stores with a warning."""
        return self._call("import_statement", m.Task, path={"id": user_id},
                          query={"format": format, "wait_seconds": wait_seconds,
                                 "strict": None if strict is None else ("true" if strict else "false")},
                          body=file, content_type=content_type,
                          headers={"X-Filename": filename}, **kw)

    # ---- connections and sessions -----------------------------------------

    def create_connection(self, user_id: str, institution_id: str, username: str, password: str,
                          store_credentials: Optional[bool] = None, **kw: Any) -> m.ConnectionCreated:
        body = m.ConnectionCreate(user_id, institution_id, m.Credentials(username, password), store_credentials)
        return self._call("create_connection", m.ConnectionCreated, json_body=m.to_json(body), **kw)

    def list_connections(self, user_id: Optional[str] = None, limit: Optional[int] = None,
                         cursor: Optional[str] = None, **kw: Any) -> m.ConnectionList:
        return self._call("list_connections", m.ConnectionList,
                          query={"user_id": user_id, "limit": limit, "cursor": cursor}, **kw)

    def iter_connections(self, **params: Any) -> Iterator[m.Connection]:
        return self._items(self.list_connections, params)

    def get_connection(self, id: str, **kw: Any) -> m.Connection:
        return self._call("get_connection", m.Connection, path={"id": id}, **kw)

    def delete_connection(self, id: str, **kw: Any) -> None:
        self._call("delete_connection", path={"id": id}, **kw)

    def create_session(self, connection_id: str, username: Optional[str] = None,
                       password: Optional[str] = None, **kw: Any) -> m.Session:
        creds = m.Credentials(username, password) if username is not None else None
        return self._call("create_session", m.Session, path={"id": connection_id},
                          json_body=m.to_json(m.SessionCreate(creds)), **kw)

    def get_session(self, id: str, **kw: Any) -> m.Session:
        return self._call("get_session", m.Session, path={"id": id}, **kw)

    def answer_session(self, id: str, answers: Dict[str, str], **kw: Any) -> m.Session:
        return self._call("answer_session", m.Session, path={"id": id},
                          json_body=m.to_json(m.SessionAnswers(answers)), **kw)

    def xs2a_callback(self, state: str, nok: Optional[str] = None, **kw: Any) -> str:
        """The browser's return from a bank's redirect SCA: the HTML page bankfeed shows."""
        return self._call("xs2a_callback", query={"state": state, "nok": nok}, **kw)

    def create_connect_token(self, user_id: str, redirect_uri: Optional[str] = None,
                             institutions: Optional[List[str]] = None, language: Optional[str] = None,
                             **kw: Any) -> m.ConnectToken:
        """POST /v1/connect_tokens: a token for the Connect page of one user."""
        body = m.ConnectTokenCreate(user_id, redirect_uri, institutions, language)
        return self._call("create_connect_token", m.ConnectToken, json_body=m.to_json(body), **kw)

    # ---- sync and tasks ----------------------------------------------------

    def sync_connection(self, id: str, wait_seconds: Optional[int] = None, from_: Optional[str] = None,
                        psu_ip_address: Optional[str] = None, **kw: Any) -> m.Task:
        """Starts a sync; psu_ip_address is the end user's address when they are present (PSD2)."""
        return self._call("sync_connection", m.Task, path={"id": id},
                          json_body=m.to_json(m.SyncRequest(wait_seconds, from_)),
                          headers={"PSU-IP-Address": psu_ip_address}, **kw)

    def get_task(self, id: str, **kw: Any) -> m.Task:
        return self._call("get_task", m.Task, path={"id": id}, **kw)

    def wait_for_task(self, id: str, interval: float = 1.0, timeout: float = 35 * 60, **kw: Any) -> m.Task:
        """Follows a task (a dispatched sync or import, 202) with GET /v1/tasks/{id}
        every interval seconds until it is no longer queued or running; returns
        it then.  Raises TimeoutError after timeout (default 35 min: the server
        expires a task after 30)."""
        end = time.monotonic() + timeout
        while True:
            task = self.get_task(id, **kw)
            if task.status not in ("queued", "running"):
                return task
            if time.monotonic() >= end:
                raise TimeoutError(f"task {id} still {task.status}")
            time.sleep(min(interval, max(0.0, end - time.monotonic())))

    # ---- accounts and transactions ----------------------------------------

    def list_accounts(self, user_id: Optional[str] = None, connection_id: Optional[str] = None,
                      limit: Optional[int] = None, cursor: Optional[str] = None, **kw: Any) -> m.AccountList:
        return self._call("list_accounts", m.AccountList, query={
            "user_id": user_id, "connection_id": connection_id, "limit": limit, "cursor": cursor}, **kw)

    def iter_accounts(self, **params: Any) -> Iterator[m.Account]:
        return self._items(self.list_accounts, params)

    def get_account(self, id: str, **kw: Any) -> m.Account:
        return self._call("get_account", m.Account, path={"id": id}, **kw)

    def list_transactions(self, account_id: str, from_: Optional[str] = None, to: Optional[str] = None,
                          status: Optional[str] = None, limit: Optional[int] = None,
                          cursor: Optional[str] = None, **kw: Any) -> m.TransactionList:
        return self._call("list_transactions", m.TransactionList, path={"id": account_id}, query={
            "from": from_, "to": to, "status": status, "limit": limit, "cursor": cursor}, **kw)

    def iter_transactions(self, account_id: str, **params: Any) -> Iterator[m.Transaction]:
        return self._items(lambda **p: self.list_transactions(account_id, **p), params)

    def sync_transactions(self, connection_id: str, cursor: Optional[str] = None,
                          limit: Optional[int] = None, **kw: Any) -> m.TransactionsSyncPage:
        return self._call("sync_transactions", m.TransactionsSyncPage, query={
            "connection_id": connection_id, "cursor": cursor, "limit": limit}, **kw)

    def iter_transactions_sync(self, connection_id: str, cursor: Optional[str] = None,
                               limit: Optional[int] = None, **kw: Any) -> Iterator[m.TransactionsSyncPage]:
        """The pages of the feed from cursor (None: from the start) while has_more is true.

        The last page yielded has has_more False; its next_cursor is the one
        to store for next time.
        """
        while True:
            page = self.sync_transactions(connection_id, cursor=cursor, limit=limit, **kw)
            yield page
            if not page.has_more:
                return
            cursor = page.next_cursor

    # ---- webhooks ----------------------------------------------------------

    def put_webhook(self, url: str, secret: str, **kw: Any) -> m.Webhook:
        return self._call("put_webhook", m.Webhook, json_body=m.to_json(m.WebhookPut(url, secret)), **kw)

    def get_webhook(self, **kw: Any) -> m.Webhook:
        return self._call("get_webhook", m.Webhook, **kw)

    def delete_webhook(self, **kw: Any) -> None:
        self._call("delete_webhook", **kw)

    @staticmethod
    def _items(list_fn: Callable[..., Any], params: Dict[str, Any]) -> Iterator[Any]:
        """Every item of a cursor-paged list, page after page."""
        params = dict(params)
        while True:
            page = list_fn(**params)
            yield from page.data
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor
