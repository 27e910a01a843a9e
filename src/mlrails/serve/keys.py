"""API keys: random tokens shown once, stored only as SHA-256, verified in constant time.

A token looks like ``mlr_<id>_<secret>``: the public ``id`` (12 hex characters) names the
key in logs and in ``mlrails keys list``; the 256-bit secret is never stored. Verification
looks the key up by its id and compares the token's hash with :func:`hmac.compare_digest`,
so the time taken does not reveal how much of a guessed secret was right.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from mlrails.errors import MlrailsError
from mlrails.store import ApiKeyRecord, Store

TOKEN_PREFIX = "mlr"
_ID_HEX = 12
#: compared against when the id is unknown, so unknown and wrong keys take the same time
_DUMMY_HASH = hashlib.sha256(b"mlrails-no-such-key").hexdigest()


class ApiKeyError(MlrailsError):
    """An API-key operation is invalid (bad name, unknown id)."""


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: its record and the token, which exists only here."""

    record: ApiKeyRecord
    token: str


def hash_token(token: str) -> str:
    """Hex SHA-256 of the token (what the store keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_key_id(token: str) -> str | None:
    """The public id inside a well-formed token, else ``None``."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    key_id = parts[1]
    if len(key_id) != _ID_HEX or any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id


class KeyRing:
    """Create, list, revoke and verify API keys kept in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, name: str) -> IssuedKey:
        """A new key named ``name``; the returned token is shown once and never stored."""
        name = name.strip()
        if not name or len(name) > 200:
            raise ApiKeyError("a key name must have 1 to 200 characters")
        key_id = secrets.token_hex(_ID_HEX // 2)
        token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKeyRecord(
            id=key_id, name=name, token_hash=hash_token(token), created_at=datetime.now(UTC)
        )
        self.store.add_key(record)
        return IssuedKey(record=record, token=token)

    def list(self) -> list[ApiKeyRecord]:
        return self.store.list_keys()

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Revoke a key by its public id; it is refused from the next request on."""
        if not self.store.revoke_key(key_id, datetime.now(UTC)):
            known = self.store.get_key(key_id)
            if known is None:
                raise ApiKeyError(f"no API key with id {key_id!r}")
            raise ApiKeyError(f"API key {key_id!r} is already revoked")
        record = self.store.get_key(key_id)
        assert record is not None
        return record

    def verify(self, token: str) -> ApiKeyRecord | None:
        """The active key this token belongs to, or ``None`` (unknown, wrong or revoked)."""
        key_id = parse_key_id(token)
        record = None if key_id is None else self.store.get_key(key_id)
        expected = _DUMMY_HASH if record is None else record.token_hash
        match = hmac.compare_digest(hash_token(token), expected)
        if record is None or not match or not record.active:
            return None
        return record
