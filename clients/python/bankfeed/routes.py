"""Every route of the API, as one table.

The client sends each call through its entry (method, path, authentication,
the query parameters and headers it may carry), and tests/test_spec.py checks
the table against docs/openapi.yaml: a route, parameter or field of the
document without its counterpart here fails the test.  ``op`` is the
operationId in snake case, and the Client's method of that name.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple


class Route(NamedTuple):
    op: str
    method: str
    path: str
    auth: str                      # bearer, none, basic (client credentials), metrics
    query: Tuple[str, ...]
    headers: Tuple[str, ...]       # besides X-Request-Id, which every call may send
    request: Optional[str]         # models class of the request body
    response: Optional[str]        # models class of the answer (None: 204 or text)
    pending: bool = False          # not in docs/openapi.yaml yet (another branch adds it)


IK = "Idempotency-Key"
PAGE = ("limit", "cursor")

ROUTES: Tuple[Route, ...] = (
    Route("get_health", "GET", "/health", "none", (), (), None, "Health"),
    Route("get_metrics", "GET", "/metrics", "metrics", (), (), None, None),
    Route("create_token", "POST", "/oauth/token", "basic", (), (IK,), "TokenRequest", "TokenResponse"),
    Route("list_errors", "GET", "/v1/errors", "none", (), (), None, "ErrorCatalogList"),
    Route("list_institutions", "GET", "/v1/institutions", "bearer", ("country", "q"), (), None, "InstitutionList"),
    Route("get_institution", "GET", "/v1/institutions/{id}", "bearer", (), (), None, "Institution"),
    Route("create_user", "POST", "/v1/users", "bearer", (), (IK,), "UserCreate", "User"),
    Route("list_users", "GET", "/v1/users", "bearer", ("external_ref",) + PAGE, (), None, "UserList"),
    Route("get_user", "GET", "/v1/users/{id}", "bearer", (), (), None, "User"),
    Route("delete_user", "DELETE", "/v1/users/{id}", "bearer", (), (), None, None),
    Route("import_statement", "POST", "/v1/users/{id}/statements", "bearer", ("format", "wait_seconds", "strict"),
          (IK, "X-Filename"), "StatementUpload", "Task"),
    Route("create_connection", "POST", "/v1/connections", "bearer", (), (IK,), "ConnectionCreate", "ConnectionCreated"),
    Route("list_connections", "GET", "/v1/connections", "bearer", ("user_id",) + PAGE, (), None, "ConnectionList"),
    Route("get_connection", "GET", "/v1/connections/{id}", "bearer", (), (), None, "Connection"),
    Route("delete_connection", "DELETE", "/v1/connections/{id}", "bearer", (), (), None, None),
    Route("create_session", "POST", "/v1/connections/{id}/sessions", "bearer", (), (IK,), "SessionCreate", "Session"),
    Route("get_session", "GET", "/v1/sessions/{id}", "bearer", (), (), None, "Session"),
    Route("answer_session", "POST", "/v1/sessions/{id}/answers", "bearer", (), (IK,), "SessionAnswers", "Session"),
    Route("xs2a_callback", "GET", "/v1/callback/xs2a", "none", ("state", "nok"), (), None, None),
    Route("sync_connection", "POST", "/v1/connections/{id}/sync", "bearer", (), (IK, "PSU-IP-Address"),
          "SyncRequest", "Task"),
    Route("get_task", "GET", "/v1/tasks/{id}", "bearer", (), (), None, "Task"),
    Route("list_accounts", "GET", "/v1/accounts", "bearer", ("user_id", "connection_id") + PAGE, (), None, "AccountList"),
    Route("get_account", "GET", "/v1/accounts/{id}", "bearer", (), (), None, "Account"),
    Route("list_transactions", "GET", "/v1/accounts/{id}/transactions", "bearer", ("from", "to", "status") + PAGE,
          (), None, "TransactionList"),
    Route("sync_transactions", "GET", "/v1/transactions/sync", "bearer", ("connection_id",) + PAGE, (), None,
          "TransactionsSyncPage"),
    Route("put_webhook", "PUT", "/v1/webhook", "bearer", (), (), "WebhookPut", "Webhook"),
    Route("get_webhook", "GET", "/v1/webhook", "bearer", (), (), None, "Webhook"),
    Route("delete_webhook", "DELETE", "/v1/webhook", "bearer", (), (), None, None),
    Route("create_connect_token", "POST", "/v1/connect_tokens", "bearer", (), (IK,), "ConnectTokenCreate",
          "ConnectToken", pending=True),
)

ROUTE_BY_OP = {r.op: r for r in ROUTES}
