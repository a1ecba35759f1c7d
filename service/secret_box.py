"""Secrets at rest, sealed under a key-encryption key (KEK) from the settings: AES-256-GCM.

A sealed value is  0x01 (format) ‖ KEK id (8 bytes) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag.
The purpose names where the value lives (e.g. "site_keys.secret:acme-shop.3f9a1c2e") and is bound
as associated data with the header, so a sealed value copied into another row or column does not
open: someone who can write the table but does not hold the KEK cannot move a secret around.
The KEK id names the KEK that sealed the value, so the settings can hold a new current KEK beside
the previous ones while `sophmate-ledger rotate-kek` re-seals every row (service/kek_rotation.py).

This is the one module for secrets at rest; nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = b"\x01"
KEK_BYTES = 32
KEK_ID_BYTES = 8
NONCE_BYTES = 12
HEADER_BYTES = len(FORMAT) + KEK_ID_BYTES + NONCE_BYTES
TAG_BYTES = 16


class SecretUnreadable(Exception):
    """A sealed value that no configured KEK opens: another KEK, another purpose, or tampered."""


def decode_key(text: str) -> bytes | None:
    """32 bytes from base64url (padding optional), or None when it is anything else."""
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEK_BYTES else None


def new_kek() -> str:
    """A fresh KEK, as the settings take it."""
    return base64.urlsafe_b64encode(os.urandom(KEK_BYTES)).decode().rstrip("=")


def kek_id(kek: bytes) -> bytes:
    # A digest, not a name an operator picks: two KEKs can never share an id by mistake, and
    # the id reveals nothing of the key.
    return hashlib.sha256(b"sophmate-ledger kek id\n" + kek).digest()[:KEK_ID_BYTES]


def shannon_bits_per_symbol(data: bytes | str) -> float:
    """The sample's Shannon entropy per symbol: 0 for 32 times the same character."""
    if not data:
        return 0.0
    counts = Counter(data)
    total = len(data)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


@dataclass(frozen=True)
class SecretBox:
    """Seals under the current KEK; opens under the current or any previous one."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        for kek in (self.current, *self.previous):
            if len(kek) != KEK_BYTES:
                raise ValueError(f"a KEK is {KEK_BYTES} bytes")

    @classmethod
    def of(cls, current: bytes, previous: Sequence[bytes] = ()) -> SecretBox:
        # The current KEK among the previous ones is harmless; drop it so ids stay unique.
        return cls(current, tuple(k for k in previous if k != current))

    @property
    def current_id(self) -> str:
        return kek_id(self.current).hex()

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: safe far beyond our row counts
        header = FORMAT + kek_id(self.current) + nonce
        return header + AESGCM(self.current).encrypt(nonce, plaintext, _aad(header, purpose))

    def open_sealed(self, sealed: bytes, purpose: str) -> bytes:
        if len(sealed) < HEADER_BYTES + TAG_BYTES or sealed[:1] != FORMAT:
            raise SecretUnreadable("not a sealed value of a known format")
        header, body = sealed[:HEADER_BYTES], sealed[HEADER_BYTES:]
        kek = self._kek(header[1 : 1 + KEK_ID_BYTES])
        if kek is None:
            raise SecretUnreadable("sealed under a KEK this ledger does not hold")
        nonce = header[1 + KEK_ID_BYTES :]
        try:
            return AESGCM(kek).decrypt(nonce, body, _aad(header, purpose))
        except InvalidTag:
            raise SecretUnreadable("the sealed value does not open for this purpose") from None

    def sealed_under_current(self, sealed: bytes) -> bool:
        return sealed[1 : 1 + KEK_ID_BYTES] == kek_id(self.current)

    def _kek(self, wanted: bytes) -> bytes | None:
        for kek in (self.current, *self.previous):
            if kek_id(kek) == wanted:
                return kek
        return None


def _aad(header: bytes, purpose: str) -> bytes:
    return header + b"\n" + purpose.encode("utf-8")
