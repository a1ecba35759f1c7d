"""The ledger's Ed25519 key for playbook exports: an import proves a document came from this
ledger unchanged. The `cryptography` package does the signing; nothing here is hand-rolled."""

from __future__ import annotations

import base64
import hashlib
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
from service.settings import Settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PlaybookSigner:
    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 signing key is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._public = self._key.public_key()
        raw = self._public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_raw = raw
        self.kid = "playbooks-" + hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def from_settings(cls, settings: Settings) -> PlaybookSigner:
        if settings.playbook_signing_key is not None:
            return cls(unb64url(settings.playbook_signing_key))
        # Development only (production refuses an unset key): stable across restarts.
        hkdf = HKDF(SHA256(), 32, salt=None, info=b"sophmate-ledger playbook exports")
        return cls(hkdf.derive(settings.jwt_secret.encode()))

    def sign(self, document: UnsignedPlaybookExport) -> PlaybookExport:
        value = b64url(self._key.sign(signing_input(document)))
        return signed(document, self.kid, value)

    def verify(self, document: PlaybookExport, signed_bytes: bytes) -> None:
        """Refuses (422) a document this ledger did not sign, or one changed since."""
        signature = document.signature
        if signature.kid != self.kid:
            raise InvalidCommand(
                "the document was not signed by this ledger's playbook key",
                missing=["document.signature.kid"],
            )
        try:
            raw = unb64url(signature.value)
            if b64url(raw) != signature.value:
                raise ValueError("not the canonical base64url form")
            self._public.verify(raw, signed_bytes)
        except (InvalidSignature, ValueError):
            raise InvalidCommand(
                "the signature does not match the document: it was changed after export",
                missing=["document.signature"],
            ) from None

    def jwks(self) -> dict[str, Any]:
        key = {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.public_raw)}
        return {"keys": [{**key, "kid": self.kid, "use": "sig", "alg": "EdDSA"}]}
