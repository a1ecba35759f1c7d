"""Column types and fields the read-model declarations share (SQLModel over Postgres)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Computed, DateTime, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import UserDefinedType
from sqlmodel import Field

TEXTS = postgresql.ARRAY(Text)
MOMENT = DateTime(timezone=True)


class Xid8(UserDefinedType[int]):
    """Postgres's 64-bit transaction id (commit-safe read order); read as text, then int."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


def text_field(nullable: bool = False, **kwargs: Any) -> Any:
    """A `text` column (SQLModel's own default for str is a varchar)."""
    return Field(sa_type=Text, nullable=nullable, **kwargs)


def generated_field(sql_type: Any, expression: str) -> Any:
    """A column Postgres computes from the row (GENERATED ALWAYS AS ... STORED)."""
    return Field(sa_column=Column(sql_type, Computed(expression, persisted=True)))
