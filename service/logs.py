"""JSON lines on stderr: one object per record. Every line logged while a request is handled
carries its request id, and its actor once the token is verified, whichever logger wrote it."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime

_request: ContextVar[dict[str, str] | None] = ContextVar("ledger_log_request", default=None)


def begin_request(request_id: str) -> Token[dict[str, str] | None]:
    """The edge calls this first: what is bound from here on goes on each line of the request."""
    return _request.set({"request_id": request_id})


def end_request(token: Token[dict[str, str] | None]) -> None:
    _request.reset(token)


def bind(**fields: str) -> None:
    """Add fields to the current request's lines. A dict shared by the request's whole context,
    so a value bound inside a dependency also shows on the edge's access line after it."""
    current = _request.get()
    if current is not None:
        current.update(fields)


class RequestFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_request.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestFields())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The edge middleware writes one access line per request with the request id.
    logging.getLogger("uvicorn.access").disabled = True
