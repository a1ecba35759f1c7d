"""HTTP models of the audit API. Hashes are base64 as in C2SP checkpoints; `entry` is hex, as
an export record's `hash`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LogKeys(BaseModel):
    public_keys: list[str] = Field(description="Raw Ed25519 public keys, base64; current first.")
    event_vkeys: list[str] = Field(description="Signed-note vkeys for event signatures.")
    origin_prefix: str = Field(examples=["sophmate-ledger"])


class InclusionProof(BaseModel):
    origin: str = Field(examples=["sophmate-ledger/agency/northwind-agency"])
    leaf_index: int
    tree_size: int
    entry: str = Field(description="The leaf input: the event's hash, hex.")
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    origin: str
    from_size: int
    to_size: int
    from_root: str
    to_root: str
    proof: list[str]


class Receipt(BaseModel):
    event_id: str
    origin: str
    leaf_index: int
    tree_size: int
    checkpoint: str = Field(description="The signed checkpoint the proof is against.")
    proof: list[str]
