"""Browser sessions of the web UI: an API key, typed once into a form, becomes a cookie.

The cookie never holds the key itself. It holds ``<key id>.<expiry>.<signature>``, the
signature being HMAC-SHA256 of the key id and expiry, keyed by the SHA-256 of the key that
the store keeps. So the session is stateless (any process sharing the store accepts it), it
expires on the server's clock, and revoking the key ends it at the next request: every
check looks the key up again. A stolen cookie opens the UI until it expires, never the API
(which accepts only ``Authorization: Bearer``).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from mlrails.serve.keys import KeyRing
from mlrails.store import ApiKeyRecord

COOKIE_NAME = "mlrails_ui"
#: how long a UI session lasts after sign-in (seconds)
SESSION_TTL_S = 8 * 3600
_CONTEXT = b"mlrails-ui-session-v1"


def _signature(record: ApiKeyRecord, expires: int) -> str:
    msg = _CONTEXT + b"|" + record.id.encode("ascii") + b"|" + str(expires).encode("ascii")
    return hmac.new(record.token_hash.encode("ascii"), msg, hashlib.sha256).hexdigest()


def issue_session(record: ApiKeyRecord, *, now: float | None = None) -> tuple[str, int]:
    """The cookie value for a verified key, and its lifetime in seconds."""
    expires = int(now if now is not None else time.time()) + SESSION_TTL_S
    return f"{record.id}.{expires}.{_signature(record, expires)}", SESSION_TTL_S


def verify_session(keys: KeyRing, value: str, *, now: float | None = None) -> ApiKeyRecord | None:
    """The active key behind a session cookie, or ``None`` (malformed, expired, forged,
    revoked). Touches the store, so call it from a worker thread."""
    parts = value.split(".")
    if len(value) > 200 or len(parts) != 3 or not parts[1].isdigit():
        return None
    key_id, expires_text, signature = parts
    expires = int(expires_text)
    if expires < (now if now is not None else time.time()):
        return None
    record = keys.store.get_key(key_id)
    if record is None or not record.active:
        return None
    if not hmac.compare_digest(_signature(record, expires), signature):
        return None
    return record
