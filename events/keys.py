"""The ledger's Ed25519 keys: one signing key (checkpoints and event signatures) and a keyring
of the public keys still trusted (the current one and every retired one), so that what was
signed before a rotation keeps verifying after it. Key IDs follow C2SP signed-note:
sha256(name || 0x0A || 0x01 || public key)[:4]. The `cryptography` package signs; libsodium
(PyNaCl) verifies: verify checks a signature per commit of the whole log, and libsodium's check
costs 0.6 of OpenSSL's (Ed25519 signatures are deterministic, so who signs does not matter, and
libsodium accepts no signature OpenSSL refuses: it also refuses small-order points)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

ED25519 = b"\x01"
"""The signed-note signature type byte of Ed25519."""

DEVELOPMENT_SEED = hashlib.sha256(
    b"sophmate-ledger development signing key, never production"
).digest()
"""The key of a ledger that was given none (production refuses to start without one): public,
like the development JWT secret, so that development data verifies across restarts."""

EVENT_KEY_NAME = "sophmate-ledger/events"
"""The name event signatures are made under (its key ID is the first 4 bytes of a signature)."""
EVENT_SIGNATURE_CONTEXT = b"sophmate-ledger event signature v1\n"
COMMIT_SIGNATURE_CONTEXT = b"sophmate-ledger commit signature v1\n"
"""Prefix of a commit signature's message: the context string, then the 32-byte hashes of the
events it vouches for, concatenated in their order in the commit."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def vkey(name: str, public: bytes) -> str:
    """The signed-note verifier key: name+hex(key ID)+base64(0x01 || public key)."""
    return f"{name}+{key_id(name, public).hex()}+{base64.b64encode(ED25519 + public).decode()}"


class KeyFormatError(ValueError):
    """A key that cannot be read; the message says why, never the key."""


def parse_public_key(text: str) -> bytes:
    """A raw Ed25519 public key from a vkey or from base64 / base64url of the 32 bytes."""
    text = text.strip()
    parts = text.split("+")
    if len(parts) == 3 and len(parts[1]) == 8:
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise KeyFormatError("the verifier key's key is not base64") from None
        if len(raw) != 33 or raw[:1] != ED25519:
            raise KeyFormatError("the verifier key is not an Ed25519 key")
        if key_id(name, raw[1:]).hex() != hex_id:
            raise KeyFormatError("the verifier key's ID does not match its name and key")
        return raw[1:]
    try:
        raw = base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
    except (binascii.Error, ValueError):
        raise KeyFormatError("a public key is a verifier key or 32 bytes in base64") from None
    if len(raw) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    return raw


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SigningKey:
    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 signing key is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def from_text(cls, text: str | None) -> SigningKey:
        """32 bytes in base64url (the settings' form); None gives the development key."""
        if text is None:
            return cls(DEVELOPMENT_SEED)
        return cls(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class Keyring:
    """Trusted public keys, current first. A signature names its key by ID; any trusted key with
    that ID under that name may verify it, and an unknown ID is no match (never an error)."""

    def __init__(self, publics: Iterable[bytes]) -> None:
        self.publics: list[bytes] = []
        for public in publics:
            if len(public) != 32:
                raise ValueError("an Ed25519 public key is 32 bytes")
            if public not in self.publics:
                self.publics.append(public)
        self._by_id: dict[tuple[str, bytes], list[bytes]] = {}

    @classmethod
    def of(cls, current: SigningKey, retired: Iterable[str] = ()) -> Keyring:
        return cls([current.public, *(parse_public_key(text) for text in retired)])

    def candidates(self, name: str, identifier: bytes) -> list[bytes]:
        cached = self._by_id.get((name, identifier))
        if cached is None:
            cached = [p for p in self.publics if key_id(name, p) == identifier]
            self._by_id[(name, identifier)] = cached
        return cached

    def verifies(self, public: bytes, signature: bytes, message: bytes) -> bool:
        if len(signature) != 64:  # crypto_sign_open reads the signature off the front
            return False
        try:
            crypto_sign_open(signature + message, public)
        except (BadSignatureError, ValueError):
            return False
        return True

    def vkeys(self, name: str) -> list[str]:
        return [vkey(name, public) for public in self.publics]


_writer = SigningKey(DEVELOPMENT_SEED)
_writer_id = key_id(EVENT_KEY_NAME, _writer.public)


def install_writer_key(key: SigningKey) -> None:
    """The key every event this process appends is signed with (set once at start-up)."""
    global _writer, _writer_id
    _writer, _writer_id = key, key_id(EVENT_KEY_NAME, key.public)


def sign_event(event_hash: bytes) -> bytes:
    """The signature events carried one by one before commit signatures (still verified, and
    tests of old logs use). key ID (4 bytes) || Ed25519 signature (64) over the context string
    and the event hash."""
    return _writer_id + _writer.sign(EVENT_SIGNATURE_CONTEXT + event_hash)


def sign_commit(hashes: bytes) -> bytes:
    """key ID (4 bytes) || Ed25519 signature (64) over the context string and the concatenated
    event hashes of one agency's part of one commit: one signature for a whole batch of
    commands, where signing (and verifying) each event was most of verify's cost."""
    return _writer_id + _writer.sign(COMMIT_SIGNATURE_CONTEXT + hashes)


def commit_signature_holds(keyring: Keyring, hashes: bytes, signature: bytes | None) -> bool:
    if signature is None or len(signature) != 68 or not hashes or len(hashes) % 32:
        return False
    message = COMMIT_SIGNATURE_CONTEXT + hashes
    return any(
        keyring.verifies(public, signature[4:], message)
        for public in keyring.candidates(EVENT_KEY_NAME, signature[:4])
    )


def event_signature_holds(keyring: Keyring, event_hash: bytes, signature: bytes | None) -> bool:
    if signature is None or len(signature) != 68:
        return False
    message = EVENT_SIGNATURE_CONTEXT + event_hash
    return any(
        keyring.verifies(public, signature[4:], message)
        for public in keyring.candidates(EVENT_KEY_NAME, signature[:4])
    )
