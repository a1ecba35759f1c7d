"""Auditors' HTTP: checkpoints, proofs, receipts, the verifiable export, the public keys, and
the C2SP tlog-tiles read API under /v1/audit/logs/{log}/ (checkpoint, tile/<L>/<N>[.p/<W>],
tile/entries/<N>[.p/<W>]), so any tlog-tiles client or witness can follow a log. A log is named
by its agency id, or `platform` for events of no agency; another agency's log answers 404."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from events import merkle
from events.errors import InvalidCommand, NotFound
from events.keys import EVENT_KEY_NAME, Keyring
from events.merkle import HASH_SIZE
from events.sealer import PLATFORM
from events.tiles import WIDTH, tile_path_index
from service.audit import queries
from service.audit.queries import LogRow
from service.audit.schemas import ConsistencyProof, InclusionProof, LogKeys, Receipt
from service.auth.dependencies import Caller
from service.auth.principal import Principal
from service.bounds import BIGINT_MAX
from service.contract.headers import ATTACHMENT
from service.history.formats import ndjson_records
from service.paths import LogName
from service.tenancy import Tenant, require_access

router = APIRouter(prefix="/v1/audit", tags=["audit"])
TEXT = "text/plain; charset=utf-8"
OCTETS = "application/octet-stream"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


async def _log(request: Request, who: Principal, name: str) -> LogRow:
    agency = None if name == PLATFORM else name
    require_access(who, Tenant(None, agency), "log")
    log = await queries.log_named(request.app.state.pool, name)
    if log is None:
        raise NotFound("log not found")
    return log


async def _latest(request: Request, log: LogRow) -> Any:
    checkpoint = await queries.latest_checkpoint(request.app.state.pool, log.log_id)
    if checkpoint is None:
        raise NotFound("the log has no checkpoint yet")
    return checkpoint


def _size(requested: int | None, latest: int) -> int:
    size = latest if requested is None else requested
    if not 1 <= size <= latest:
        raise InvalidCommand(f"tree_size must be between 1 and {latest}, the latest checkpoint")
    return size


@router.get("/keys", operation_id="get-log-keys", response_model=LogKeys)
async def get_log_keys(request: Request) -> LogKeys:
    """The public Ed25519 keys of the ledger's logs, current first, then retired ones still
    trusted. A checkpoint of origin O is signed under key name O (its vkey is
    `O+hex(key ID)+base64(0x01 || key)`); event signatures under `sophmate-ledger/events`."""
    keyring: Keyring = request.app.state.log_keyring
    return LogKeys(
        public_keys=[_b64(p) for p in keyring.publics],
        event_vkeys=keyring.vkeys(EVENT_KEY_NAME),
        origin_prefix=request.app.state.settings.log_origin,
    )


@router.get(
    "/logs/{log}/checkpoint",
    operation_id="get-checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {TEXT: {"schema": {"type": "string"}}}}},
)
async def get_checkpoint(log: LogName, who: Caller, request: Request) -> Response:
    """The log's latest signed checkpoint (c2sp.org/tlog-checkpoint): origin, tree size, base64
    root, a blank line and the Ed25519 signature line."""
    row = await _latest(request, await _log(request, who, log))
    return Response(row["note"], media_type=TEXT, headers={"Cache-Control": "no-cache"})


@router.get(
    "/logs/{log}/tile/{tile_path:path}",
    operation_id="get-tile",
    responses={200: {"content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def get_tile(log: LogName, tile_path: str, who: Caller, request: Request) -> Response:
    """c2sp.org/tlog-tiles: `<L>/<N>[.p/<W>]` is a Merkle tile (32-byte hashes),
    `entries/<N>[.p/<W>]` an entry bundle. An entry is an event's `hash` (32 bytes), so a level
    0 tile hash is sha256(0x00 || hash); each entry is prefixed by its big-endian uint16 length."""
    found = await _log(request, who, log)
    entries, level, index, width = _parse_tile(tile_path)
    latest = (await _latest(request, found))["tree_size"]
    pool = request.app.state.pool
    count = latest >> (8 * level)
    full = (index + 1) * WIDTH <= count
    if (width is None and not full) or (width is not None and index * WIDTH + width > count):
        raise NotFound("tile not found")
    want = WIDTH if width is None else width
    if entries:
        rows = await pool.fetch(
            "SELECT entry FROM merkle_leaves WHERE log_id = $1 AND leaf_index >= $2 "
            "AND leaf_index < $3 ORDER BY leaf_index",
            found.log_id,
            index * WIDTH,
            index * WIDTH + want,
        )
        body = b"".join(len(row["entry"]).to_bytes(2, "big") + bytes(row["entry"]) for row in rows)
    else:
        blob = await pool.fetchval(
            "SELECT hashes FROM merkle_tiles WHERE log_id = $1 AND level = $2 AND index = $3",
            found.log_id,
            level,
            index,
        )
        body = bytes(blob or b"")[: want * HASH_SIZE]
        if len(body) != want * HASH_SIZE:
            raise NotFound("tile not found")
    return Response(
        body, media_type=OCTETS, headers={"Cache-Control": "max-age=31536000, immutable"}
    )


def _parse_tile(path: str) -> tuple[bool, int, int, int | None]:
    parts = path.split("/")
    width: int | None = None
    try:
        entries = parts[0] == "entries"
        level = 0 if entries else int(parts[0])
        if not entries and (str(level) != parts[0] or not 0 <= level <= 63):
            raise ValueError
        rest = parts[1:]
        if len(rest) >= 2 and rest[-2].endswith(".p"):
            width = int(rest[-1])
            if str(width) != rest[-1] or not 1 <= width < WIDTH:
                raise ValueError
            rest = [*rest[:-2], rest[-2][:-2]]
        index = tile_path_index(rest)
    except (ValueError, IndexError):
        raise NotFound("tile not found") from None
    return entries, level, index, width


@router.get(
    "/logs/{log}/proofs/inclusion/{event_id}",
    operation_id="get-inclusion-proof",
    response_model=InclusionProof,
)
async def get_inclusion_proof(
    log: LogName,
    event_id: uuid.UUID,
    who: Caller,
    request: Request,
    tree_size: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="Default: the latest checkpoint.")
    ] = None,
) -> InclusionProof:
    """An RFC 9162 inclusion proof of the event's leaf in the tree of `tree_size` leaves."""
    found = await _log(request, who, log)
    leaf = await queries.leaf_of(request.app.state.pool, event_id)
    if leaf is None or leaf["log_id"] != found.log_id:
        raise NotFound("event not sealed in this log")
    latest = (await _latest(request, found))["tree_size"]
    size = _size(tree_size, latest)
    if leaf["leaf_index"] >= size:
        raise InvalidCommand("the event's leaf is not in a tree of that size yet")
    proof = await queries.inclusion_proof(
        request.app.state.pool, found.log_id, leaf["leaf_index"], size
    )
    root = await queries.root_at(request.app.state.pool, found.log_id, size)
    return InclusionProof(
        origin=found.origin,
        leaf_index=leaf["leaf_index"],
        tree_size=size,
        entry=bytes(leaf["entry"]).hex(),
        leaf_hash=_b64(merkle.leaf_hash(bytes(leaf["entry"]))),
        root=_b64(root),
        proof=[_b64(p) for p in proof],
    )


@router.get(
    "/logs/{log}/proofs/consistency",
    operation_id="get-consistency-proof",
    response_model=ConsistencyProof,
)
async def get_consistency_proof(
    log: LogName,
    who: Caller,
    request: Request,
    from_size: Annotated[int, Query(ge=1, le=BIGINT_MAX, description="The older tree size.")] = 1,
    to_size: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="Default: the latest.")
    ] = None,
) -> ConsistencyProof:
    """An RFC 9162 consistency proof that the tree of `to_size` leaves extends the tree of
    `from_size` leaves."""
    found = await _log(request, who, log)
    latest = (await _latest(request, found))["tree_size"]
    new = _size(to_size, latest)
    if from_size > new:
        raise InvalidCommand("from_size must not exceed to_size")
    pool = request.app.state.pool
    proof = await queries.consistency_proof(pool, found.log_id, from_size, new)
    return ConsistencyProof(
        origin=found.origin,
        from_size=from_size,
        to_size=new,
        from_root=_b64(await queries.root_at(pool, found.log_id, from_size)),
        to_root=_b64(await queries.root_at(pool, found.log_id, new)),
        proof=[_b64(p) for p in proof],
    )


@router.get("/events/{event_id}/receipt", operation_id="get-event-receipt", response_model=Receipt)
async def get_event_receipt(event_id: uuid.UUID, who: Caller, request: Request) -> Receipt:
    """Proof that an event is in its log: its leaf index, the latest signed checkpoint and the
    inclusion proof against it. 404 until the sealer has sealed it (within about a second)."""
    pool = request.app.state.pool
    leaf = await queries.leaf_of(pool, event_id)
    if leaf is None:
        raise NotFound("event not sealed")
    name = leaf["agency_id"] if leaf["agency_id"] is not None else PLATFORM
    found = await _log(request, who, name)
    checkpoint = await queries.latest_checkpoint(pool, found.log_id)
    if checkpoint is None or checkpoint["tree_size"] <= leaf["leaf_index"]:
        raise NotFound("event not sealed")
    size = checkpoint["tree_size"]
    proof = await queries.inclusion_proof(pool, found.log_id, leaf["leaf_index"], size)
    return Receipt(
        event_id=str(event_id),
        origin=found.origin,
        leaf_index=leaf["leaf_index"],
        tree_size=size,
        checkpoint=checkpoint["note"],
        proof=[_b64(p) for p in proof],
    )


@router.get(
    "/logs/{log}/export",
    operation_id="export-audit-log",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "headers": ATTACHMENT,
        }
    },
)
async def export_audit_log(log: LogName, who: Caller, request: Request) -> StreamingResponse:
    """The whole log as NDJSON, cut at its latest checkpoint: a first line
    `{"checkpoint": "<signed note>"}`, then every event of the log in leaf order, each with its
    `leaf_index`. `sophmate-ledger verify FILE --public-key KEY` checks it offline."""
    found = await _log(request, who, log)
    checkpoint = await _latest(request, found)
    pool = request.app.state.pool

    async def body() -> AsyncIterator[bytes]:
        yield queries.export_header(checkpoint["note"])
        async for chunk in queries.records(pool, found.log_id, checkpoint["tree_size"]):
            for record in chunk:
                record.pop("sealed_entry", None)
            yield ndjson_records(chunk)

    return StreamingResponse(
        body(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{found.name}.ndjson"'},
    )
