"""Provider tokens and webhook URLs: one shape per family, each anchored on the provider's own
prefix or host, so none needs a keyword nearby (compared with gitleaks' config/gitleaks.toml;
our own patterns, tuned for an agency's WordPress and WooCommerce shops).

A prefix alone is not enough where an ordinary word could carry it ("SK" + hex, "EAAA..."):
those shapes also ask for a digit or mixed case, which a random token has and prose has not.
"""

from __future__ import annotations

import re

from service.redaction_shapes import AFTER, BEFORE, Shape, mixed, mixed_case, shape


def _hex_mix(match: re.Match[str]) -> bool:
    # 32 random hex digits hold a letter and a digit but for a chance of about 2e-8.
    body = match.group(0)[2:]
    return any(c.isdigit() for c in body) and any(c.isalpha() for c in body)


def _both(match: re.Match[str]) -> bool:
    return mixed(match) and mixed_case(match)


PROVIDER_TOKENS: tuple[Shape, ...] = (
    shape(
        "github_token",
        # Fine-grained tokens are "github_pat_" + 22 + "_" + 59; the classic ones gh?_ + 36.
        rf"{BEFORE}(?:gh[pousr]_[A-Za-z0-9]{{36,251}}|github_pat_\w{{22,}}){AFTER}",
        hints=("gh", "github_pat_"),
    ),
    shape(
        "gitlab_token",
        rf"{BEFORE}(?:gl(?:pat|dt|rt|ptt|soat|cbt|imt|agent|oas|ft|ffct|wt)-[\w-]{{20,}}"
        rf"(?:\.[0-9a-z]{{2}}[0-9a-z]{{7}})?|GR1348941[\w-]{{20,}}){AFTER}",
        hints=("gl", "gr1348941"),
    ),
    shape("npm_token", rf"{BEFORE}npm_[A-Za-z0-9]{{36}}{AFTER}", mixed, ("npm_",)),
    shape(
        "huggingface_token",
        rf"{BEFORE}(?:hf|api_org)_[A-Za-z0-9]{{30,40}}{AFTER}",
        mixed_case,
        ("hf_", "api_org_"),
    ),
    shape("sendgrid_key", rf"(?<![\w.-])SG\.[\w-]{{16,32}}\.[\w-]{{16,64}}{AFTER}", hints=("sg.",)),
    shape(
        "mailgun_key",
        rf"{BEFORE}(?:(?:pub)?key-[0-9a-f]{{32}}|[0-9a-f]{{32}}-[0-9a-f]{{8}}-[0-9a-f]{{8}}){AFTER}",
        hints=("key-", "-"),
    ),
    shape("mailchimp_key", rf"{BEFORE}[0-9a-f]{{32}}-us\d{{1,2}}{AFTER}", hints=("-us",)),
    shape("twilio_key", rf"{BEFORE}(?:SK|AC)[0-9a-fA-F]{{32}}{AFTER}", _hex_mix, ("sk", "ac")),
    shape(
        "twilio_key",  # the auth token: 32 hex digits, named as Twilio's
        r"(?i:twilio)[\w.-]{0,30}[\"']?[ \t]*(?:=>|[:=])[ \t]*[\"']?"
        r"(?P<secret>[0-9a-f]{32})(?![0-9A-Za-z])",
        hints=("twilio",),
    ),
    shape("shopify_token", rf"{BEFORE}shp(?:at|ss|ca|pa)_[a-fA-F0-9]{{32}}{AFTER}", hints=("shp",)),
    shape(
        "square_token",
        rf"{BEFORE}(?:sq0atp-[\w-]{{22,60}}|sq0csp-[\w-]{{40,50}}|EAAA[\w-]{{40,80}}){AFTER}",
        mixed,
        ("sq0atp-", "sq0csp-", "eaaa"),
    ),
    shape(
        "braintree_token",
        r"access_token\$(?:production|sandbox|development|qa)\$[0-9a-z]{8,32}\$[0-9a-f]{16,64}"
        rf"{AFTER}",
        hints=("access_token$",),
    ),
    shape(
        "telegram_bot_token",
        r"(?<![\w:])\d{6,12}:A[A-Za-z0-9_-]{32,40}(?![\w-])",
        hints=(":a",),
    ),
    shape(
        "slack_webhook",
        r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
        hints=("hooks.slack.com",),
    ),
    shape(
        "discord_webhook",
        r"(?:https?://)?(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/(?:v\d{1,2}/)?webhooks/"
        r"\d{15,22}/[\w-]{40,100}",
        hints=("discord",),
    ),
    shape(
        "discord_bot_token",
        r"(?<![\w.-])[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![\w.-])",
        _both,
        (".",),
    ),
    shape(
        "azure_storage_key",
        r"(?i:AccountKey|SharedAccessKey)=(?P<secret>[A-Za-z0-9+/]{40,100}={0,2})",
        hints=("accountkey=", "sharedaccesskey="),
    ),
    shape(
        "azure_sas_token",
        r"(?<=[?&;])sig=(?P<secret>[A-Za-z0-9%+/=]{30,})",
        hints=("sig=",),
    ),
    shape("google_oauth_secret", rf"{BEFORE}GOCSPX-[\w-]{{28}}{AFTER}", hints=("gocspx-",)),
    shape("google_oauth_token", rf"{BEFORE}ya29\.[\w-]{{30,}}{AFTER}", hints=("ya29.",)),
    # Prefixed tokens of tools agencies use around their shops (gitleaks has each of them).
    shape("digitalocean_token", rf"{BEFORE}do[opr]_v1_[a-f0-9]{{64}}{AFTER}", hints=("_v1_",)),
    shape("pypi_token", rf"{BEFORE}pypi-AgEIcHlwaS5vcmc[\w-]{{50,}}{AFTER}", hints=("pypi-",)),
    shape("postman_key", rf"{BEFORE}PMAK-[a-f0-9]{{24}}-[a-f0-9]{{34}}{AFTER}", hints=("pmak-",)),
    shape("sentry_token", rf"{BEFORE}sntr[ysu]_[\w=+/]{{30,}}", hints=("sntr",)),
    shape("vault_token", rf"{BEFORE}hv[sb]\.[\w-]{{24,}}{AFTER}", mixed, ("hvs.", "hvb.")),
    shape(
        "grafana_token",
        rf"{BEFORE}(?:glsa_[A-Za-z0-9]{{32}}_[A-Fa-f0-9]{{8}}|glc_[A-Za-z0-9+/]{{32,}}={{0,2}})",
        hints=("glsa_", "glc_"),
    ),
    shape("newrelic_key", rf"{BEFORE}NRAK-[A-Z0-9]{{27}}{AFTER}", hints=("nrak-",)),
    shape("linear_key", rf"{BEFORE}lin_api_[A-Za-z0-9]{{40}}{AFTER}", hints=("lin_api_",)),
    shape("doppler_token", rf"{BEFORE}dp\.pt\.[A-Za-z0-9]{{40,}}{AFTER}", hints=("dp.pt.",)),
    shape("atlassian_token", rf"{BEFORE}ATATT3[\w=-]{{150,}}", hints=("atatt3",)),
    shape(
        "cloudflare_origin_key",
        rf"{BEFORE}v1\.0-[a-f0-9]{{24}}-[a-f0-9]{{146}}{AFTER}",
        hints=("v1.0-",),
    ),
)
"""In priority order among themselves; all before the generic shapes (a pair, a bearer)."""
