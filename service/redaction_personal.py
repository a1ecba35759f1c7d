"""Personal data a support case carries: card security codes, US social security numbers, phone
numbers and postal addresses. Each shape asks for the structure the real thing has (an area code
that can exist, a street type after a house number), so order numbers, versions, SKUs and prices
come through."""

from __future__ import annotations

import re

from service.redaction_shapes import DIGITS, Shape, digit_count, shape


def _north_american(match: re.Match[str]) -> bool:
    # A North American area code never starts with 0 or 1.
    area = match.group("area") or match.group("area2")
    return area[0] in "23456789"


_STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Crescent|Cres|Trail|Trl"
)
_NAME = r"[A-Z][a-z]+(?:['-][A-Za-z]+)?"
# The rest of an address line: a unit, a town, a state and ZIP code or a UK postcode.
_ADDRESS_TAIL = (
    r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|#) ?[\w-]{1,6})?"
    rf"(?:, {_NAME}(?: {_NAME}){{0,3}})?"
    r"(?:,? [A-Z]{2} \d{5}(?:-\d{4})?|,? [A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2})?"
)
_GERMAN_STREET = r"(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer)"


PERSONAL: tuple[Shape, ...] = (
    shape(
        "card_cvv",
        r"(?i:\b(?:cvv2?|cvc2?|csc|card[ _-]?(?:verification|security)(?:[ _-]?(?:value|code))?"
        r"|security[ _-]?code))\b[\"']?[ \t]*(?:[:=#]|is|was)?[ \t]*[\"']?"
        r"(?P<secret>\d{3,4})(?![\d])",
        hints=("cvv", "cvc", "csc", "card", "security"),
    ),
    shape(
        "us_ssn",
        r"(?i:\b(?:ssn|social[ _-]security(?:[ _-](?:number|no\.?|#))?))[\"']?[ \t]*"
        r"(?:[:=#]|is|was)?[ \t]*[\"']?(?P<secret>\d{3}[ .-]?\d{2}[ .-]?\d{4})(?!\d)",
        hints=("ssn", "social"),
    ),
    shape(
        "us_ssn",
        r"(?<![\w.,/+-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w]|[.,/-]\d)",
        hints=DIGITS,
    ),
    shape(
        "phone",
        # Named as one: a number after "phone", "tel", "mobile"..., however it is spaced.
        r"(?<![A-Za-z])(?i:phone|tel|telephone|mobile|cell|sms|whatsapp|fax)\b[\s.:#=()\"'-]{0,5}"
        r"(?P<secret>\+?\d[\d ().-]{5,20}\d)(?![\d])",
        digit_count(7, 15),
        ("phone", "tel", "mobile", "cell", "sms", "whatsapp", "fax"),
    ),
    shape(
        "phone",
        r"(?<![\w+])\+(?:\d{8,15}|\d{1,3}(?:[ .-]?\(\d{1,4}\))?[ .-]?\d{1,8}(?:[ .-]\d{1,8}){0,5})"
        r"(?![\w+]|[ .-]\d)",
        digit_count(8, 15),
        ("+",),
    ),
    shape(
        "phone",
        r"(?<![\w+.,/-])00[1-9]\d{0,2}(?:[ .-]\d{1,8}){2,5}(?![\w]|[ .,/-]\d)",
        digit_count(9, 15),
        ("00",),
    ),
    shape(
        "phone",
        r"(?<![\w+.-])(?:\((?P<area>\d{3})\)[ ]?|(?P<area2>\d{3})[-.])\d{3}[-.]\d{4}"
        r"(?![\w]|[.-]\d)",
        _north_american,
        DIGITS,
    ),
    shape(
        "phone",
        # Spaced: "415 555 0132", "(415) 555 0132". The exchange never starts with 0 or 1
        # either, which keeps "300 100 2000"-like counts out.
        r"(?<![\w+.,/-])(?:\([2-9]\d{2}\) ?|[2-9]\d{2} )[2-9]\d{2} \d{4}(?![\w]|[ .,/-]\d)",
        hints=DIGITS,
    ),
    shape(
        "phone",
        r"(?<![\w+.,/-])0\d{2,4}[ /-]\d{3,4}[ -]?\d{3,4}(?![\w]|[ .,/-]\d)",
        digit_count(10, 12),
        ("0",),
    ),
    shape("phone", r"(?<![\w+.,/-])0[1-9](?:[ .]\d{2}){4}(?![\w]|[ .,/-]\d)", hints=("0",)),
    shape(
        "postal_address",
        # "1600 Pennsylvania Avenue NW, Washington, DC 20500": a number, one to four capitalised
        # names, a street type; then what follows on the line.
        rf"(?<![\w.,/-])\d{{1,6}}[A-Za-z]? (?:{_NAME} ){{1,4}}(?:{_STREET_TYPES})\b\.?"
        rf"(?: [NS][EW]\b)?{_ADDRESS_TAIL}",
        hints=DIGITS,
    ),
    shape(
        "postal_address",
        # "Hauptstraße 5, 10115 Berlin"
        rf"(?<![\w-])[A-ZÄÖÜ][a-zäöüß]+{_GERMAN_STREET} \d{{1,4}}[a-z]?\b"
        r"(?:, ?\d{5} [A-ZÄÖÜ][a-zäöüß]+(?:[ -][A-ZÄÖÜ][a-zäöüß]+)?)?",
        hints=("str", "weg", "gasse", "platz", "allee", "ring", "damm", "ufer"),
    ),
    shape(
        "postal_address",
        # "12 rue de la Paix, 75002 Paris"
        r"(?<![\w.,/-])\d{1,4}(?: ?(?:bis|ter))?,? (?:rue|avenue|boulevard|place|allée|chemin"
        r"|impasse|quai) (?:de la |de l'|du |des |de |d')?[A-ZÉ][\w'-]+(?: [A-Z][\w'-]+){0,3}"
        r"(?:, ?\d{5} [A-Z][\w-]+)?",
        hints=("rue", "avenue", "boulevard", "place", "allée", "chemin", "impasse", "quai"),
    ),
    shape(
        "postal_address",
        r"(?<![\w-])(?:P\.? ?O\.? Box|Postfach) \d{1,6}\b",
        hints=("box", "postfach"),
    ),
)
"""After the cards and IBANs (a card number is not a phone number), in this order."""
