"""The one redaction gate: every command's body passes it before anything else sees it.

A command body derives from `CommandBody` (directly, or next to the domain model it extends).
Its validator runs on the raw input, before the fields are validated: every string, number, nested
object, list and key is scanned, so the typed body a command receives holds masked text only, and
a validation error can only ever echo masked text. The outcome rules are the same for every
command:

- mask: "[REDACTED:<kind>]" in place; the kind and the JSON pointer (of the body) are recorded in
  the command's event metadata (`redacted`) and in its answer (`masked`), never the value;
- refuse (422 problem+json, `missing` and `findings` name the pointers and kinds, nothing is
  appended) where a masked value would name something else or cannot be held: an id, an owner,
  an enum or a number; and anywhere in a `SecretFreeBody` (a playbook is shared between sites and
  exported, so a secret in it is refused, not masked).

Who owns the work is often an e-mail login: in an owner or contact field an e-mail address is not
a finding (anything else there still is).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import to_jsonable_python

from events.envelope import inexact_numbers
from events.errors import InvalidCommand, SecretsFound
from service.redaction import (
    IDENTITY_KINDS,
    Finding,
    escape_pointer_token,
    redact,
    safe_location_part,
)

OWNER_FIELDS = frozenset({"owner", "setup_owner", "subject"})
"""Fields that name a person the ledger acts for: the owner may pause, complete, approve; a
rollout grant's subject works on the site. A masked one could never do so, so a secret there is
refused."""
CONTACT_FIELDS = OWNER_FIELDS | {"support_path", "notification_path"}
"""Fields where the ledger's own people are reached, by an e-mail login more often than not."""


class Redacted(BaseModel):
    """Where the gate masked something, and what kind; never the value."""

    model_config = ConfigDict(frozen=True)

    pointer: str = Field(examples=["/reason"], description="RFC 6901, in the request body.")
    kind: str = Field(examples=["github_token"])


# Who collects what the gate masked: one list per command context (service/ledger.py starts it
# when a command's context is made, before FastAPI validates the body), read when the command's
# events and answer are written. A list, not a value: the body is validated in a nested call.
_record: ContextVar[list[Redacted] | None] = ContextVar("redaction_record", default=None)


def start_record() -> list[Redacted]:
    """A fresh record for the command about to run in this context."""
    record: list[Redacted] = []
    _record.set(record)
    return record


class CommandBody(BaseModel):
    """The base of every command's request body: its free text is masked before it is parsed."""

    secrets_refused: ClassVar[bool] = False
    """True: any finding refuses the command (nothing here may ever hold a secret)."""
    _redactions: tuple[Redacted, ...] = PrivateAttr(default=())

    @property
    def redactions(self) -> tuple[Redacted, ...]:
        """What the gate masked in this body (pointers of the body)."""
        return self._redactions

    @model_validator(mode="wrap")
    @classmethod
    def _redaction_gate(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(data, cls):
            return data  # already through the gate
        # JSON types throughout, so a model or enum built in Python is scanned as JSON would be.
        raw = to_jsonable_python(data, fallback=str)
        if inexact_numbers(raw):
            # Refused before anything reads it (a playbook import hashes its document first);
            # no pointer, since a key can hold a secret too.
            raise InvalidCommand(
                "a number in the body is not finite or beyond ±(2**53 - 1): the log could not "
                "keep it exactly"
            )
        masked, findings = mask(raw, model=cls, refuse_all=cls.secrets_refused)
        try:
            body = handler(masked)
        except ValidationError as error:
            # A field that cannot hold the marker (an id's pattern, an enum, a number): refused as
            # a secret, so the client learns why and the value is never echoed.
            refused = _held_by(findings, error)
            if refused:
                raise secrets_found(refused, "a field that cannot be masked") from None
            raise
        found = tuple(Redacted(pointer=f.pointer, kind=f.kind) for f in findings)
        body._redactions = found
        record = _record.get()
        if record is not None:
            record.extend(found)
        return body


class SecretFreeBody(CommandBody):
    """A body where a secret must never be: refused whole, never masked."""

    secrets_refused: ClassVar[bool] = True


def mask(
    value: Any, *, model: type[BaseModel] | None = None, refuse_all: bool = False
) -> tuple[Any, list[Finding]]:
    """`value` masked, and the findings that were masked. Raises SecretsFound for a finding
    where a secret must never be (an owner, an id; anywhere when `refuse_all`).

    The owner and id rules read field names: of `model`'s declared fields only, so a key inside
    free JSON (evidence `{"owner": ...}`) is masked like any other text. Without a model, or
    where everything is refused anyway, any field of that name counts."""

    def declared(finding: Finding) -> bool:
        return model is None or refuse_all or _declared(model, _tokens(finding.pointer))

    masked, findings = redact(value)
    kept = [f for f in findings if not (_contact_address(f, findings) and declared(f))]
    for finding in findings:
        if finding not in kept:
            # An e-mail in a contact field stays as given; the rest of the document stays masked.
            masked = _restore(masked, value, finding.pointer)
    refused = kept if refuse_all else [f for f in kept if _names_something(f) and declared(f)]
    if refused:
        raise secrets_found(refused, "an id or owner" if not refuse_all else "this body")
    return masked, kept


def _declared(model: type[BaseModel], tokens: list[str]) -> bool:
    """The pointer names a field the model declares (through nested models and lists), not a
    key inside a free JSON value."""
    annotation: Any = model
    for token in tokens:
        if token.isdigit():
            continue  # an item of a declared list or tuple: its type is in the annotation
        fields = [m.model_fields[token] for m in _models_in(annotation) if token in m.model_fields]
        if not fields:
            return False
        annotation = fields[0].annotation
    return True


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds: itself, or inside Optional, Union, list, tuple."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def refuse_secrets(value: Any, where: str, prefix: str = "") -> None:
    """Refuse (422) any secret in `value`, e.g. a document about to leave the ledger."""
    try:
        mask(value, refuse_all=True)
    except SecretsFound as found:
        raise secrets_found(
            [Finding(prefix + f["pointer"], f["kind"]) for f in found.findings], where
        ) from None


def secrets_found(findings: Iterable[Finding], where: str) -> SecretsFound:
    # A refused body may carry keys the client made up: a pointer shows only field-like names.
    unique = sorted({(_shown(f.pointer), f.kind) for f in findings})
    return SecretsFound(
        f"{where} may not hold secrets or personal data; remove them and try again",
        [{"pointer": pointer, "kind": kind} for pointer, kind in unique],
    )


def _shown(pointer: str) -> str:
    tokens = pointer.split("/")[1:]
    return "".join(f"/{t if t.isdigit() else safe_location_part(t)}" for t in tokens)


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _field_name(pointer: str) -> str:
    """The last named token of a pointer: "/linked/workflows/0" -> "workflows"."""
    named = [t for t in _tokens(pointer) if not t.isdigit()]
    return named[-1] if named else ""


def _contact_address(finding: Finding, findings: Sequence[Finding]) -> bool:
    if finding.in_key or _field_name(finding.pointer) not in CONTACT_FIELDS:
        return False
    kinds = {f.kind for f in findings if f.pointer == finding.pointer and not f.in_key}
    return kinds <= IDENTITY_KINDS


def _names_something(finding: Finding) -> bool:
    name = _field_name(finding.pointer)
    return name in OWNER_FIELDS or name == "id" or name.endswith(("_id", "_ids"))


def _held_by(findings: Sequence[Finding], error: ValidationError) -> list[Finding]:
    failed = [
        "/" + "/".join(escape_pointer_token(str(p)) for p in e["loc"])
        for e in error.errors()
        if e["type"] not in _NOT_ABOUT_THE_MARKER
    ]
    return [
        f
        for f in findings
        if any(_related(f.pointer, pointer) for pointer in failed) or not f.pointer
    ]


# A text too long is too long with or without its secret: the schema's own refusal says so.
_NOT_ABOUT_THE_MARKER = frozenset({"string_too_long", "too_long", "missing"})


def _related(a: str, b: str) -> bool:
    """One pointer is the other or inside it."""
    return a == b or b.startswith(a + "/") or a.startswith(b + "/")


def _restore(masked: Any, original: Any, pointer: str) -> Any:
    try:
        return _put(masked, pointer, _get(original, pointer))
    except (KeyError, IndexError, TypeError):
        return masked  # under a key that was masked itself: the value stays masked too


def _get(document: Any, pointer: str) -> Any:
    for token in _tokens(pointer):
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def _put(document: Any, pointer: str, value: Any) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return value
    parent = _get(document, "".join("/" + escape_pointer_token(t) for t in tokens[:-1]))
    last = tokens[-1]
    parent[int(last) if isinstance(parent, list) else last] = value
    return document
