"""The exceptions of the library.

Every answer of bankfeed with a status of 400 or more is raised as a
BankfeedError: the class of its catalog entry (_errors_generated.py, one per
entry, generated from ``bankfeed errors --json``) when its code is known, else
the class of its group, else BankfeedError itself.  A server that cannot be
reached is BankfeedConnectionError, which is not a catalog error.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple


class BankfeedError(Exception):
    """An error answer of the API (the ``error`` object of docs/openapi.yaml).

    Attributes: ``code`` (1002), ``name`` (ENTITY_NOT_FOUND), ``group``,
    ``description``, ``message`` (the bank's own words when a bank caused it,
    else None), ``data`` (field -> messages for validation errors),
    ``request_id`` (quote it when reporting a problem), ``status`` (HTTP),
    ``retry_after`` (seconds from Retry-After, or None) and ``raw`` (the whole
    object as sent).
    """

    # The catalog's values of the class; each entry's class sets them.
    CODE: int = 0
    NAME: str = ""
    HTTP_STATUS: int = 0
    RETRYABLE: bool = False
    ALIASES: Tuple[str, ...] = ()

    def __init__(self, error: Dict[str, Any], status: int,
                 request_id: Optional[str] = None,
                 retry_after: Optional[int] = None) -> None:
        self.code: int = error.get("code", 0)
        self.name: str = error.get("name", "")
        self.group: str = error.get("group", "")
        self.description: str = error.get("description", "")
        self.message: Optional[str] = error.get("message")
        self.data: Dict[str, Any] = error.get("data") or {}
        self.request_id: Optional[str] = error.get("request_id") or request_id
        self.status = status
        self.retry_after = retry_after
        self.raw = error
        text = f"{self.name} ({self.code}): {self.description}"
        if self.message:
            text += f" Bank: {self.message}"
        super().__init__(text)


class ClientError(BankfeedError):
    """1000-1999: the request was wrong."""


class UserError(BankfeedError):
    """10000-19999: the end user must act."""


class BankError(BankfeedError):
    """20000-29999: the bank failed."""


class GeneralError(BankfeedError):
    """30000-39999: bankfeed failed."""


class ConnectivityError(BankfeedError):
    """40000-49999: the institution cannot be reached the way it is set up."""


class CategorizationError(BankfeedError):
    """50000-59999."""


GROUP_CLASSES = {
    "client": ClientError,
    "user": UserError,
    "bank": BankError,
    "general": GeneralError,
    "connectivity": ConnectivityError,
    "categorization": CategorizationError,
}


class BankfeedConnectionError(Exception):
    """The server could not be reached, or its answer was not the JSON it should be."""


def error_class_for(error: Dict[str, Any]) -> type:
    """The class of an error object: its entry, its alias, its group, or BankfeedError."""
    from ._errors_generated import ERRORS_BY_CODE, ERRORS_BY_NAME

    return (ERRORS_BY_CODE.get(error.get("code"))
            or ERRORS_BY_NAME.get(error.get("name"))
            or GROUP_CLASSES.get(error.get("group"))
            or BankfeedError)
