"""The ledger's Ed25519 key for playbook exports: an import proves a document came from this
ledger unchanged. The `cryptography` package does the signing; nothing here is hand-rolled."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from events.domain.playbook_format import (
    PlaybookExport,
    UnsignedPlaybookExport,
    signed,
    signing_input,
)
from events.errors import InvalidCommand
from events.keys import Keyring, parse_public_key
from service.settings import Settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def playbook_kid(public: bytes) -> str:
    return "playbooks-" + hashlib.sha256(public).hexdigest()[:16]


class PlaybookSigner:
    def __init__(self, seed: bytes, retired: Sequence[bytes] = ()) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 signing key is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_raw = raw
        self.kid = playbook_kid(raw)
        # The keyring: exports signed before a rotation still import after it.
        self.keyring = Keyring([raw, *retired])
        self._by_kid = {playbook_kid(public): public for public in self.keyring.publics}

    @classmethod
    def from_settings(cls, settings: Settings) -> PlaybookSigner:
        retired = [
            parse_public_key(text)
            for text in settings.playbook_retired_public_keys.split(",")
            if text.strip()
        ]
        if settings.playbook_signing_key is not None:
            return cls(unb64url(settings.playbook_signing_key), retired)
        # Development only (production refuses an unset key): stable across restarts.
        hkdf = HKDF(SHA256(), 32, salt=None, info=b"sophmate-ledger playbook exports")
        return cls(hkdf.derive(settings.jwt_secret.encode()), retired)

    def sign(self, document: UnsignedPlaybookExport) -> PlaybookExport:
        value = b64url(self._key.sign(signing_input(document)))
        return signed(document, self.kid, value)

    def verify(self, document: PlaybookExport, signed_bytes: bytes) -> None:
        """Refuses (422) a document this ledger did not sign, or one changed since."""
        signature = document.signature
        public = self._by_kid.get(signature.kid)
        if public is None:
            raise InvalidCommand(
                "the document was not signed by this ledger's playbook key",
                missing=["document.signature.kid"],
            )
        try:
            raw = unb64url(signature.value)
            if b64url(raw) != signature.value:
                raise ValueError("not the canonical base64url form")
            if not self.keyring.verifies(public, raw, signed_bytes):
                raise InvalidSignature
        except (InvalidSignature, ValueError):
            raise InvalidCommand(
                "the signature does not match the document: it was changed after export",
                missing=["document.signature"],
            ) from None

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": b64url(public),
                    "kid": playbook_kid(public),
                    "use": "sig",
                    "alg": "EdDSA",
                }
                for public in self.keyring.publics
            ]
        }
