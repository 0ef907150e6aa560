"""bankfeed: the Python client of the bankfeed HTTP API v1 (standard library only)."""

from . import models
from ._errors_generated import *  # noqa: F401,F403  one class per catalog entry
from ._errors_generated import ERRORS_BY_CODE, ERRORS_BY_NAME
from .aio import AsyncClient
from .client import Client
from .errors import (BankError, BankfeedConnectionError, BankfeedError, CategorizationError, ClientError,
                     ConnectivityError, GeneralError, GROUP_CLASSES, UserError, error_class_for)
from .routes import ROUTE_BY_OP, ROUTES, Route
from .transport import RETRY_STATUSES, RetryInfo, TokenInfo, Transport, parse_retry_after
from .webhooks import (SIGNATURE_HEADER, WEBHOOK_EVENT_TYPES, WebhookSignatureError, assert_webhook_signature,
                       parse_webhook_event, sign_webhook, verify_webhook_signature)

__version__ = "0.1.0"
