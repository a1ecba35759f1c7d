"""Commit signatures: the writer key vouches for a whole batch of commands at once.

Why: an Ed25519 signature per event made the signature the bulk of both the writer's hashing
and, far more, of verify (one signature check per event: ~0.1 ms, ten times the rest of a
record's checks). So the batch that writes many commands in one statement signs, once per
agency in it, the concatenated hashes of that agency's events in the batch, and stores that
(`commit_signatures`: agency, hashes, signature) in the same statement as the events, so the
signature commits or rolls back with them. The transaction id of the row is the commit's.

One agency per signature, so that an agency's auditor verifies its export alone and never sees
another agency's hashes. What a verifier checks: an event of hash version 2 without a signature
of its own must have its hash among the hashes of a commit signature, of the same agency and
transaction, that verifies with a trusted key. A row inserted with database credentials alone
is in no signed list (its hash is new), so it fails at its own leaf index.

A signed list may name more events than committed: the statement's guard can refuse a command
whose stream moved on, after the batch was signed. The names it holds are hashes of envelopes
that were never stored (each holds a random event id), so nobody can write a row that matches
one; deletions are found by the chains and the Merkle log, not by signatures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from events.appends import EventRow
from events.keys import Keyring, commit_signature_holds, sign_commit

HASH_SIZE = 32

COLUMNS: tuple[tuple[str, str], ...] = (
    ("agency_id", "text"),
    ("hashes", "bytea"),
    ("signature", "bytea"),
)


def signed_parts(appends: Iterable[tuple[str | None, Sequence[EventRow]]]) -> list[list[Any]]:
    """The commit_signatures rows of one statement's events as columns (one list per entry of
    COLUMNS): each agency's hashes in statement order, signed once."""
    parts: dict[str | None, list[bytes]] = {}
    for agency_id, rows in appends:
        parts.setdefault(agency_id, []).extend(row[8] for row in rows)  # EventRow's hash
    agencies = [agency_id for agency_id, hashes in parts.items() if hashes]
    hashes = [b"".join(parts[agency_id]) for agency_id in agencies]
    return [agencies, hashes, [sign_commit(joined) for joined in hashes]]


def export_form(hashes: bytes, signature: bytes) -> dict[str, str]:
    """A commit signature as an export record carries it (hex)."""
    return {"hashes": hashes.hex(), "signature": signature.hex()}


def signed_hashes(manifests: Iterable[dict[str, Any]], keyring: Keyring) -> tuple[set[bytes], bool]:
    """The event hashes that verifying commit signatures vouch for, and whether every one of
    them verified. A signature that does not verify vouches for nothing."""
    vouched: set[bytes] = set()
    all_hold = True
    for manifest in manifests:
        try:
            hashes = bytes.fromhex(manifest["hashes"])
            signature = bytes.fromhex(manifest["signature"])
        except (KeyError, TypeError, ValueError):
            all_hold = False
            continue
        if not commit_signature_holds(keyring, hashes, signature):
            all_hold = False
            continue
        vouched.update(hashes[i : i + HASH_SIZE] for i in range(0, len(hashes), HASH_SIZE))
    return vouched, all_hold
