"""WordPress and WooCommerce credentials: application passwords, wp-config secrets and salts,
login and session cookies."""

from __future__ import annotations

import re
from collections import Counter

from service.redaction_shapes import Shape, has_digit, is_placeholder, masked_part, shape

_SIX_GROUPS_OF_FOUR = r"(?<![A-Za-z0-9])[A-Za-z0-9]{4}(?: [A-Za-z0-9]{4}){5}(?![A-Za-z0-9])"
# The names wp-config.php defines a secret under: the database password, the keys and salts.
WP_CONFIG_NAMES = (
    r"DB_PASSWORD|(?:SECURE_)?AUTH_(?:KEY|SALT)|LOGGED_IN_(?:KEY|SALT)|NONCE_(?:KEY|SALT)"
    r"|WP_CACHE_KEY_SALT"
)
# What wp-config-sample.php ships with: a placeholder, not a secret.
_SAMPLE_PHRASE = "put your unique phrase here"


_CATALOGUE_CODE = re.compile(r"[Aa]+9+")


def app_password(match: re.Match[str]) -> bool:
    """WordPress draws the 24 characters from [A-Za-z0-9]: random text has small and capital
    letters with a capital inside a group (all but about 1 in 10,000), or, typed in small letters,
    digits among them. A list of SKUs (capitals and digits, or the same letters-then-digits
    layout again and again: "hx20 bl40 ..."), of words or of Title Case words has neither.
    Recall: about 97 % of small-letter passwords, all but about 1 in 10,000 of the others."""
    groups = masked_part(match).split(" ")
    text = "".join(groups)
    if not any(c.islower() for c in text):
        return False
    layouts = Counter(
        "".join("9" if c.isdigit() else "A" if c.isupper() else "a" for c in group)
        for group in groups
    )
    layout, count = layouts.most_common(1)[0]
    if count > 3 and _CATALOGUE_CODE.fullmatch(layout):
        return False  # letters then digits, four times or more: a catalogue, not chance
    inner_capital = any(c.isupper() for group in groups for c in group[1:])
    return inner_capital or (has_digit(text) and text == text.lower())


def _defined_secret(match: re.Match[str]) -> bool:
    value = masked_part(match)
    return not is_placeholder(value) and value.strip().lower() != _SAMPLE_PHRASE


WORDPRESS: tuple[Shape, ...] = (
    shape(
        "wordpress_app_password",
        # Named as one: any six groups of four (or 24 in a row) are taken, whatever the letters.
        r"(?i:app(?:lication)?[ _-]?pass(?:word)?s?)\b[^\r\n]{0,40}?"
        r"(?P<secret>(?<![A-Za-z0-9])(?:[A-Za-z0-9]{4}(?: [A-Za-z0-9]{4}){5}|[A-Za-z0-9]{24})"
        r"(?![A-Za-z0-9]))",
        lambda match: not is_placeholder(masked_part(match)),
        ("app",),
    ),
    shape("wordpress_app_password", _SIX_GROUPS_OF_FOUR, app_password, (" ",)),
    shape(
        "wp_config_secret",
        rf"define\(\s*['\"](?:{WP_CONFIG_NAMES})['\"]\s*,\s*'(?P<secret>[^'\r\n]+)'",
        _defined_secret,
        ("define",),
    ),
    shape(
        "wp_config_secret",
        rf"define\(\s*['\"](?:{WP_CONFIG_NAMES})['\"]\s*,\s*\"(?P<secret>[^\"\r\n]+)\"",
        _defined_secret,
        ("define",),
    ),
    shape(
        "wordpress_cookie",
        # The cookie's name holds an MD5 of the site URL (not secret); its value logs one in.
        r"(?<![\w-])(?:wordpress_(?:logged_in_|sec_)?[0-9a-f]{32}|wp_woocommerce_session_[0-9a-f]{32}"
        r"|PHPSESSID)=(?P<secret>[^;\s,\"'&]{8,})",
        hints=("wordpress_", "wp_woocommerce_session_", "phpsessid"),
    ),
)
