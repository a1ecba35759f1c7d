"""C2SP checkpoints as signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

    <origin> NL <tree size> NL <base64 root> NL NL — <key name> <base64(key ID || signature)> NL

The key name is the log's origin, so each log has its own key ID under the one ledger key, and a
verifier with the keyring of current and retired public keys verifies checkpoints from before
and after a rotation alike.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from events.keys import Keyring, SigningKey, key_id
from events.merkle import HASH_SIZE

SIGNATURE_PREFIX = "\u2014 "
MAX_NOTE_BYTES = 64 * 1024


class CheckpointError(ValueError):
    """A checkpoint that is malformed or not signed by a trusted key; the message says which."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    def signed(self, key: SigningKey) -> str:
        """The signed note, signed under the origin as key name."""
        text = self.text()
        signature = key_id(self.origin, key.public) + key.sign(text.encode())
        return f"{text}\n{SIGNATURE_PREFIX}{self.origin} {base64.b64encode(signature).decode()}\n"


def parse_text(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise CheckpointError("a checkpoint is origin, size and root on non-empty lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError("the tree size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointError("the root is not base64") from None
    if len(root) != HASH_SIZE:
        raise CheckpointError("the root is not a SHA-256 hash")
    return Checkpoint(origin, int(size_text), root)


def open_note(note: str, keyring: Keyring) -> Checkpoint:
    """The checkpoint, once a trusted key's signature over it verifies. Signatures by unknown
    keys are ignored (witness cosignatures); one that names a trusted key and fails refuses the
    whole note, as the signed-note spec asks."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise CheckpointError("the note is too large")
    if any(ch < " " and ch != "\n" for ch in note):
        raise CheckpointError("a note holds no control characters but newlines")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("the note has no signature block")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("the signature block does not end in a newline")
    checkpoint = parse_text(text)
    verified = False
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError("a signature line does not start with an em dash")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise CheckpointError("a signature is not base64") from None
        if len(raw) < 5:
            raise CheckpointError("a signature is too short")
        candidates = keyring.candidates(name, raw[:4]) if len(raw) == 68 else []
        for public in candidates:
            if not keyring.verifies(public, raw[4:], text.encode()):
                raise CheckpointError("a trusted key's signature does not verify")
            verified = verified or name == checkpoint.origin
    if not verified:
        raise CheckpointError("no trusted key signed this checkpoint for its origin")
    return checkpoint
