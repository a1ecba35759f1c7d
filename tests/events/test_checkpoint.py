"""Checkpoints: the C2SP note format, and verification with a keyring across a key rotation."""

from __future__ import annotations

import base64
import os

import pytest

from events.checkpoint import Checkpoint, CheckpointError, open_note
from events.keys import Keyring, SigningKey, key_id, parse_public_key, vkey
from events.merkle import EMPTY_ROOT


def test_the_signed_note_spec_example_key_id() -> None:
    # c2sp.org/signed-note: example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k
    public = base64.b64decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")[1:]
    assert key_id("example.com/foo", public).hex() == "530d903a"
    text = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    assert parse_public_key(text) == public
    assert vkey("example.com/foo", public) == text


def test_checkpoint_round_trips_in_the_note_format() -> None:
    key = SigningKey(os.urandom(32))
    note = Checkpoint("ledger.example/agency/acme", 3, EMPTY_ROOT).signed(key)
    head, signature = note.split("\n\n")
    assert head == f"ledger.example/agency/acme\n3\n{base64.b64encode(EMPTY_ROOT).decode()}"
    assert signature.startswith("\u2014 ledger.example/agency/acme ")
    assert open_note(note, Keyring([key.public])) == Checkpoint(
        "ledger.example/agency/acme", 3, EMPTY_ROOT
    )


def test_rotation_old_and_new_checkpoints_verify_with_the_keyring() -> None:
    old, new = SigningKey(os.urandom(32)), SigningKey(os.urandom(32))
    before = Checkpoint("l/x", 1, EMPTY_ROOT).signed(old)
    after = Checkpoint("l/x", 2, EMPTY_ROOT).signed(new)
    keyring = Keyring.of(new, retired=[base64.b64encode(old.public).decode()])
    assert open_note(before, keyring).size == 1
    assert open_note(after, keyring).size == 2
    with pytest.raises(CheckpointError):
        open_note(before, Keyring([new.public]))


def test_changed_or_foreign_checkpoints_are_refused() -> None:
    key, other = SigningKey(os.urandom(32)), SigningKey(os.urandom(32))
    note = Checkpoint("l/x", 5, EMPTY_ROOT).signed(key)
    with pytest.raises(CheckpointError):
        open_note(note.replace("\n5\n", "\n6\n"), Keyring([key.public]))
    with pytest.raises(CheckpointError):
        open_note(Checkpoint("l/x", 5, EMPTY_ROOT).signed(other), Keyring([key.public]))
    cosigned = note + Checkpoint("l/x", 5, EMPTY_ROOT).signed(other).split("\n\n")[1]
    assert open_note(cosigned, Keyring([key.public])).size == 5
