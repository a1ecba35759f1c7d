"""Each family of the generated corpus is caught; ordinary shop text and SKU lists are not."""

from __future__ import annotations

import pytest

from service.redaction import redact_text
from tests.service.redaction.families import CORPUS, FAMILIES, PER_FAMILY, visible
from tests.service.redaction.ordinary import SKU_LISTS, WORDPRESS_TEXTS
from tests.service.redaction.recall import caught, recall_table, report


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_generated_sample_of_the_family_is_masked(family: str) -> None:
    samples = [s for s in CORPUS if s.family == family]
    assert len(samples) == PER_FAMILY
    missed = [s.text for s in samples if not caught(s)]
    assert missed == []


def test_corpus_size_and_recall_per_family(capsys: pytest.CaptureFixture[str]) -> None:
    table = recall_table()
    with capsys.disabled():
        print("\n" + report())
    assert sum(total for total, _ in table.values()) == len(FAMILIES) * PER_FAMILY
    assert all(hits == total for total, hits in table.values())


def test_the_values_differ_from_run_to_run_of_the_seed_only() -> None:
    # Generated, not fixed strings: no two samples of a family share their secret.
    for family in FAMILIES:
        raws = [s.raw for s in CORPUS if s.family == family]
        assert len(set(raws)) == len(raws), family


@pytest.mark.parametrize("text", SKU_LISTS)
def test_a_list_of_skus_is_not_an_application_password(text: str) -> None:
    assert redact_text(text) == (text, [])


@pytest.mark.parametrize("text", WORDPRESS_TEXTS)
def test_ordinary_wordpress_and_woocommerce_text_comes_through(text: str) -> None:
    assert redact_text(text) == (text, [])


def test_zero_width_characters_outside_a_secret_are_left_alone() -> None:
    text = "Beh\u200bind the cache: the cart page\u200d is 2 s slower"
    assert redact_text(text) == (text, [])


def test_a_split_secret_is_masked_with_the_invisible_characters_inside_it() -> None:
    sample = next(s for s in CORPUS if s.family == "zero_width_split")
    masked, _ = redact_text(sample.text)
    assert sample.raw not in visible(masked)
    assert not any(c in masked for c in "\u200b\u200c\u200d\u2060\ufeff")


def test_fullwidth_letters_do_not_hide_a_token() -> None:
    secret = next(s for s in CORPUS if s.family == "npm").raw
    disguised = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in secret)
    masked, kinds = redact_text(f"token {disguised} here")
    assert kinds == ["npm_token"]
    assert masked == "token [REDACTED:npm_token] here"
