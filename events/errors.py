"""One error hierarchy for the ledger.

The HTTP edge maps each class to a status; nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence


class LedgerError(Exception):
    """Base of every refusal the ledger gives on purpose. The message is safe to show a client."""

    title = "Request refused"

    def __init__(self, detail: str, *, missing: Sequence[str] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.missing = list(missing)


class InvalidCommand(LedgerError):
    """The command is malformed or incomplete; `missing` names the fields."""

    title = "Invalid command"


class SecretsFound(InvalidCommand):
    """The redaction scan found secrets or personal data; `findings` says where and what kind,
    never the values."""

    title = "Secrets found"

    def __init__(self, detail: str, findings: Sequence[dict[str, str]]) -> None:
        super().__init__(detail, missing=[finding["pointer"] for finding in findings])
        self.findings = list(findings)


class GateNotSatisfied(LedgerError):
    """The command is well formed but the current state does not allow it yet."""

    title = "Gate not satisfied"


class StateConflict(LedgerError):
    """The command contradicts the current state (already done, already registered)."""

    title = "State conflict"


class NotFound(LedgerError):
    """Unknown id, and also another tenant's id, so that existence does not leak."""

    title = "Not found"


class Forbidden(LedgerError):
    title = "Forbidden"


class VersionConflict(LedgerError):
    """Optimistic concurrency: the stream moved on since the caller read it."""

    title = "Version conflict"

    def __init__(self, stream_id: str, expected: int | None, current: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {current}, expected {expected}",
        )
        self.stream_id = stream_id
        self.expected = expected
        self.current = current


class IdempotencyKeyReused(LedgerError):
    """The same Idempotency-Key came with a different request."""

    title = "Idempotency key reused"
