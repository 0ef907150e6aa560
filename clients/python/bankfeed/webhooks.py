"""Verifying the deliveries of bankfeed's webhooks (README "Webhooks").

The header ``Bankfeed-Signature: t=<unix seconds>,v1=<hex>``, where hex is the
lowercase HMAC-SHA256, keyed with the webhook's secret, of ``<t>.<raw body>``.
A t further than the tolerance (5 minutes) from the receiver's clock is
refused: an old delivery replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Optional, Union

from . import models as m

SIGNATURE_HEADER = "Bankfeed-Signature"
DEFAULT_TOLERANCE = 300
#: The event types bankfeed sends (docs/openapi.yaml, webhooks).
WEBHOOK_EVENT_TYPES = ("session.challenge_required", "connection.authorized", "task.completed", "task.failed")

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class WebhookSignatureError(Exception):
    """A delivery whose signature is missing, malformed, wrong or too old."""


def _bytes(v: Union[str, bytes]) -> bytes:
    return v.encode() if isinstance(v, str) else bytes(v)


def sign_webhook(secret: str, body: Union[str, bytes], t: int) -> str:
    """The header bankfeed sends for body at time t (for tests of receivers)."""
    mac = hmac.new(_bytes(secret), str(t).encode() + b"." + _bytes(body), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def assert_webhook_signature(secret: str, header: Optional[str], body: Union[str, bytes], *,
                             tolerance: float = DEFAULT_TOLERANCE, now: Optional[float] = None) -> None:
    """Raises WebhookSignatureError unless header signs body (the raw bytes as
    received, before any JSON parsing) with secret, at a t within tolerance."""
    if not header:
        raise WebhookSignatureError("no Bankfeed-Signature header")
    t = None
    sigs = []
    for part in header.split(","):
        k, sep, v = part.partition("=")
        if not sep:
            continue
        k, v = k.strip(), v.strip()
        if k == "t" and v.isdigit():
            t = int(v)
        elif k == "v1" and _HEX64.match(v):
            sigs.append(v)
    if t is None or not sigs:
        raise WebhookSignatureError("malformed Bankfeed-Signature header")
    if abs((time.time() if now is None else now) - t) > tolerance:
        raise WebhookSignatureError(f"timestamp {t} is outside the tolerance")
    want = sign_webhook(secret, body, t).split("v1=", 1)[1]
    if not any(hmac.compare_digest(want, s) for s in sigs):
        raise WebhookSignatureError("signature does not match")


def verify_webhook_signature(secret: str, header: Optional[str], body: Union[str, bytes], *,
                             tolerance: float = DEFAULT_TOLERANCE, now: Optional[float] = None) -> bool:
    """True when header signs body with secret within the tolerance."""
    try:
        assert_webhook_signature(secret, header, body, tolerance=tolerance, now=now)
        return True
    except WebhookSignatureError:
        return False


def parse_webhook_event(secret: str, header: Optional[str], body: Union[str, bytes], *,
                        tolerance: float = DEFAULT_TOLERANCE, now: Optional[float] = None) -> m.WebhookEvent:
    """Verifies a delivery and returns its event; raises WebhookSignatureError when it is not bankfeed's."""
    assert_webhook_signature(secret, header, body, tolerance=tolerance, now=now)
    return m.from_json(m.WebhookEvent, json.loads(_bytes(body)))
