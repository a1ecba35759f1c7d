"""Corpus size and recall per family: `python -m tests.service.redaction.recall`.

A sample counts as caught when the redactor reports one of the family's kinds and what a reader
sees of the masked text no longer holds the secret.
"""

from __future__ import annotations

from collections import defaultdict

from service.redaction import redact_text
from tests.service.redaction.families import CORPUS, Sample, visible


def caught(sample: Sample) -> bool:
    masked, kinds = redact_text(sample.text)
    return bool(sample.kinds & set(kinds)) and sample.raw not in visible(masked)


def recall_table() -> dict[str, tuple[int, int]]:
    """family -> (samples, caught)."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sample in CORPUS:
        table[sample.family][0] += 1
        table[sample.family][1] += caught(sample)
    return {family: (total, hits) for family, (total, hits) in table.items()}


def report() -> str:
    table = recall_table()
    width = max(map(len, table))
    lines = [f"{'family':<{width}}  samples  caught  recall"]
    for family, (total, hits) in table.items():
        lines.append(f"{family:<{width}}  {total:>7}  {hits:>6}  {hits / total:>6.1%}")
    total = sum(t for t, _ in table.values())
    hits = sum(h for _, h in table.values())
    lines.append(f"{'all':<{width}}  {total:>7}  {hits:>6}  {hits / total:>6.1%}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
