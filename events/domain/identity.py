"""One person is one identity: the form in which every "another person" rule compares subjects.

Tokens name people by their `sub`, and identity providers are not consistent about its case or
Unicode form ("Olga@Acme.example", "olga@acme.example", a full-width form). Compared byte for
byte, such variants let one person approve their own run or promote their own workflow. So the
rules compare `identity_key`s; events record the subject exactly as the token gave it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def identity_key(subject: str) -> str:
    """NFKC, case folded, NFKC again (folding can leave a string unnormalised: the Unicode
    "NFKC_Casefold" recipe), without format characters (zero-width spaces and joiners render as
    nothing, so they must not make two people of one) and without surrounding whitespace."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", subject).casefold())
    visible = "".join(char for char in folded if unicodedata.category(char) != "Cf")
    return visible.strip()


def same_person(subject: str | None, other: str | None) -> bool:
    """Whether two subjects name one person; an unknown subject (None) is nobody."""
    if subject is None or other is None:
        return False
    return identity_key(subject) == identity_key(other)


def among(subject: str, others: Iterable[str | None]) -> bool:
    """Whether `subject` is one of `others`, as a person."""
    return any(same_person(subject, other) for other in others)


def distinct_people(subjects: Iterable[str]) -> list[str]:
    """Each person once, in the spelling they first appeared with."""
    seen: set[str] = set()
    people: list[str] = []
    for subject in subjects:
        key = identity_key(subject)
        if key not in seen:
            seen.add(key)
            people.append(subject)
    return people
