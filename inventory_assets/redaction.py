"""Secrets masked in any text: the vendor's credentials, the warehouse's password.

The vendor's HTTP layer (sources/inventory_api/http.py) masks the API key and
tokens in every URL, body and error it hands upwards; the PostgreSQL
warehouse masks its password in a driver's message. Both use this one
`Redactor`, so a secret is masked the same way wherever it could leak.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"


class Redactor:
    """Masks secrets in any text, in their raw and URL-encoded spellings."""

    def __init__(self, *secrets: str) -> None:
        self._spellings: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Mask `secret` too from now on (an access token obtained at run time, say)."""
        if not secret:
            return
        spellings = {secret, quote(secret, safe=""), quote_plus(secret), *self._spellings}
        # Longest first, so a spelling that contains another is masked whole.
        self._spellings = sorted((s for s in spellings if s), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for spelling in self._spellings:
            text = text.replace(spelling, MASK)
        return text

    def bytes(self, data: bytes) -> bytes:
        for spelling in self._spellings:
            data = data.replace(spelling.encode(), MASK.encode())
        return data

    def found_in(self, data: bytes) -> bool:
        """Whether any spelling of the secret occurs in `data` (one scan per spelling)."""
        return any(spelling.encode() in data for spelling in self._spellings)

    def values(self, payload: Any) -> tuple[Any, int]:
        """`payload` (decoded JSON) with the secret masked in every string, keys included,
        and how many strings that changed."""
        if isinstance(payload, str):
            masked = self(payload)
            return masked, int(masked != payload)
        if isinstance(payload, list):
            items = [self.values(item) for item in payload]
            return [item for item, _ in items], sum(count for _, count in items)
        if isinstance(payload, dict):
            changed, entries = 0, {}
            for key, value in payload.items():
                masked_key, key_changed = self.values(key)
                entries[masked_key], value_changed = self.values(value)
                changed += key_changed + value_changed
            return entries, changed
        return payload, 0
