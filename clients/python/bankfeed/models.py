"""The objects of the API (docs/openapi.yaml, components.schemas) as dataclasses.

``from_json(cls, value)`` builds one from the JSON the server sent, nested
objects and lists included, and ignores fields it does not know (the API may
add fields at any time).  ``to_json(obj)`` writes a request body, leaving out
optional fields that are None.  A field whose JSON name is a Python keyword
carries it in its metadata (``SyncRequest.from_`` is ``from``).
Money stays a string (``amount``), never a float.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, Generic, List, Optional, TypeVar

T = TypeVar("T")


def json_name(f: dataclasses.Field) -> str:
    """The field's name in JSON."""
    return f.metadata.get("json", f.name)


_HINTS: Dict[type, Dict[str, Any]] = {}


def _hints(cls: type) -> Dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if origin in (list, List):
        return [_convert(args[0], v) for v in value] if args else list(value)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return from_json(tp, value)
    return value


def from_json(cls: typing.Type[T], value: Dict[str, Any]) -> T:
    """A cls made from a JSON object; unknown fields are left out, missing ones None."""
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        kwargs[f.name] = _convert(hints[f.name], value.get(json_name(f)))
    return cls(**kwargs)


def to_json(obj: Any) -> Any:
    """The JSON value of a request model (None fields left out)."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if v is not None:
                out[json_name(f)] = to_json(v)
        return out
    if isinstance(obj, list):
        return [to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    return obj


# ---- errors and meta -------------------------------------------------------

@dataclass
class ErrorObject:
    code: int
    name: str
    group: str
    description: str
    data: Dict[str, Any]
    message: Optional[str]
    request_id: Optional[str] = None


@dataclass
class Error:
    """The body of every answer with a status of 400 or more (raised as BankfeedError)."""
    error: ErrorObject


@dataclass
class Page(Generic[T]):
    """One page of a list: ``data`` and ``next_cursor`` (None on the last page)."""
    data: List[T]
    next_cursor: Optional[str]


@dataclass
class ErrorCatalogEntry:
    code: int
    name: str
    aliases: List[str]
    group: str
    http_status: int
    description: str
    retryable: bool
    reproduce: str


@dataclass
class Health:
    status: str
    version: str


@dataclass
class TokenRequest:
    grant_type: str = "client_credentials"
    client_id: Optional[str] = None
    client_secret: Optional[str] = None


@dataclass
class TokenResponse:
    access_token: str
    token_type: str
    expires_in: int


# ---- institutions and users ------------------------------------------------

@dataclass
class Institution:
    id: str
    name: str
    country: str
    bic: Optional[str]
    protocol: str
    status: str
    requires_psu_ip: bool
    sca_approaches: List[str]


@dataclass
class UserCreate:
    external_ref: Optional[str] = None


@dataclass
class User:
    id: str
    external_ref: Optional[str]
    created_at: str


# ---- connections and sessions ----------------------------------------------

@dataclass
class Credentials:
    username: str
    password: str


@dataclass
class ConnectionCreate:
    user_id: str
    institution_id: str
    credentials: Credentials
    store_credentials: Optional[bool] = None


@dataclass
class Connection:
    id: str
    user_id: str
    institution_id: str
    status: str
    store_credentials: bool
    consent_expires_at: Optional[str]
    last_synced_at: Optional[str]
    created_at: str
    error: Optional[ErrorObject]


@dataclass
class Challenge:
    key: str
    kind: str
    prompt: str
    options: Optional[List[str]] = None
    url: Optional[str] = None


@dataclass
class Session:
    id: str
    connection_id: str
    status: str
    challenges: List[Challenge]
    expires_at: str
    error: Optional[ErrorObject]


@dataclass
class ConnectionCreated:
    connection: Connection
    session: Session


@dataclass
class SessionCreate:
    credentials: Optional[Credentials] = None


@dataclass
class SessionAnswers:
    answers: Dict[str, str]


@dataclass
class ConnectTokenCreate:
    """POST /v1/connect_tokens (being added to the server; not in docs/openapi.yaml yet)."""
    user_id: str
    redirect_uri: Optional[str] = None
    institutions: Optional[List[str]] = None
    language: Optional[str] = None


@dataclass
class ConnectToken:
    """The answer of POST /v1/connect_tokens (201): a single-use token that opens the
    Connect page for the user, and that page's path (url, relative to the server)."""
    connect_token: str
    url: str
    user_id: str
    expires_at: str


# ---- sync and tasks --------------------------------------------------------

@dataclass
class SyncRequest:
    wait_seconds: Optional[int] = None
    from_: Optional[str] = field(default=None, metadata={"json": "from"})


@dataclass
class TaskWarning:
    name: str
    account_id: Optional[str]
    transaction_id: Optional[str]
    detail: str


@dataclass
class TaskResult:
    accounts: int
    transactions_added: int
    transactions_updated: int


@dataclass
class Task:
    id: str
    kind: str
    connection_id: str
    status: str
    dispatched: bool
    error: Optional[ErrorObject]
    warnings: List[TaskWarning]
    result: Optional[TaskResult]
    created_at: str
    started_at: Optional[str]
    finished_at: Optional[str]


@dataclass
class StatementUpload:
    """The multipart form of POST /v1/users/{id}/statements (the client sends the raw body)."""
    file: bytes


# ---- accounts and transactions ---------------------------------------------

@dataclass
class AccountHolder:
    name: Optional[str]
    address: Optional[str]
    email: Optional[str]


@dataclass
class Balance:
    type: str
    amount: str
    currency: str
    reference_date: Optional[str]


@dataclass
class Account:
    id: str
    connection_id: str
    name: Optional[str]
    type: str
    iban: Optional[str]
    masked_number: Optional[str]
    currency: str
    status: str
    error: Optional[ErrorObject]
    holder: AccountHolder
    balances: List[Balance]


@dataclass
class Counterparty:
    name: Optional[str]
    iban: Optional[str]


@dataclass
class Transaction:
    id: str
    account_id: str
    status: str
    booking_date: Optional[str]
    value_date: Optional[str]
    amount: str
    currency: str
    counterparty: Counterparty
    description: Optional[str]
    bank_transaction_code: Optional[str]
    bank_reference: Optional[str]
    details_bank_transaction_code: Optional[str] = None


@dataclass
class RemovedTransaction:
    id: str
    account_id: str


@dataclass
class TransactionsSyncPage:
    added: List[Transaction]
    modified: List[Transaction]
    removed: List[RemovedTransaction]
    next_cursor: str
    has_more: bool


# ---- webhooks --------------------------------------------------------------

@dataclass
class WebhookPut:
    url: str
    secret: str


@dataclass
class Webhook:
    url: str
    created_at: str


@dataclass
class WebhookEvent:
    id: str
    type: str
    created_at: str
    data: Dict[str, Any]


# The lists: a Page of their item (for from_json and the spec test).
@dataclass
class ErrorCatalogList(Page[ErrorCatalogEntry]):
    data: List[ErrorCatalogEntry]


@dataclass
class InstitutionList(Page[Institution]):
    data: List[Institution]


@dataclass
class UserList(Page[User]):
    data: List[User]


@dataclass
class ConnectionList(Page[Connection]):
    data: List[Connection]


@dataclass
class AccountList(Page[Account]):
    data: List[Account]


@dataclass
class TransactionList(Page[Transaction]):
    data: List[Transaction]


MODELS: Dict[str, type] = {
    name: obj for name, obj in list(globals().items())
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj is not Page
}
