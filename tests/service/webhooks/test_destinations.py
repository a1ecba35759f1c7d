"""The SSRF guard: every destination that reaches inside is refused, at send time."""

from __future__ import annotations

import pytest

from service.webhooks.destinations import Refused, resolve, system_resolver

REFUSED_LITERALS = [
    "http://127.0.0.1/h",
    "http://127.1.2.3:8080/h",
    "http://0.0.0.0/h",
    "http://10.0.0.5/h",
    "http://172.16.3.4/h",
    "http://192.168.1.1/h",
    "http://100.64.0.1/h",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",  # AWS, GCP, Azure metadata
    "http://169.254.170.2/v2/credentials",  # ECS task metadata
    "http://100.100.100.200/latest/meta-data/",  # Alibaba metadata
    "http://224.0.0.1/h",
    "http://255.255.255.255/h",
    "http://192.0.2.10/h",  # documentation range
    "http://198.18.0.1/h",  # benchmarking range
    "http://[::1]/h",
    "http://[::]/h",
    "http://[fe80::1]/h",
    "http://[fc00::1]/h",
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS metadata over IPv6
    "http://[::ffff:127.0.0.1]/h",  # IPv4-mapped loopback
    "http://[::ffff:169.254.169.254]/h",
    "http://[2002:7f00:1::]/h",  # 6to4 of 127.0.0.1
    "http://[ff02::1]/h",
    "http://[2001:db8::1]/h",  # documentation range
    "http://[64:ff9b::a00:1]/h",  # NAT64 of 10.0.0.1
]
REFUSED_BY_THE_SYSTEM_RESOLVER = [
    "http://localhost/h",
    "http://localhost.:8080/h",
    "http://2130706433/h",  # decimal 127.0.0.1
    "http://0177.0.0.1/h",  # octal
    "http://0x7f.0.0.1/h",  # hexadecimal
    "http://127.1/h",  # short form
    "http://017700000001/h",  # one octal number
]


async def _no_dns(host: str, port: int) -> list[str]:
    raise AssertionError("a literal address must not be looked up")


@pytest.mark.parametrize("url", REFUSED_LITERALS)
async def test_literal_inside_addresses_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        await resolve(url, allow_private=False, resolver=_no_dns)


@pytest.mark.parametrize("url", REFUSED_BY_THE_SYSTEM_RESOLVER)
async def test_names_and_odd_forms_that_resolve_inside_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        await resolve(url, allow_private=False, resolver=system_resolver)


async def test_dns_rebinding_is_checked_at_every_send() -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    first = await resolve("https://hooks.example.com/h", allow_private=False, resolver=rebinding)
    assert first.url == "https://93.184.216.34:443/h"
    assert first.host == "hooks.example.com"
    with pytest.raises(Refused):
        await resolve("https://hooks.example.com/h", allow_private=False, resolver=rebinding)


async def test_one_inside_address_among_public_ones_refuses_the_name() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.1.2.3"]

    with pytest.raises(Refused):
        await resolve("https://hooks.example.com/h", allow_private=False, resolver=mixed)


async def test_a_public_destination_is_accepted_and_pinned() -> None:
    async def public(host: str, port: int) -> list[str]:
        return ["2606:4700:4700::1111"]

    found = await resolve(
        "https://hooks.example.com:8443/x?y=1", allow_private=False, resolver=public
    )
    assert found.url == "https://[2606:4700:4700::1111]:8443/x?y=1"
    assert found.host_header == "hooks.example.com:8443"
    literal = await resolve("http://93.184.216.34/h", allow_private=False, resolver=_no_dns)
    assert literal.url == "http://93.184.216.34:80/h"


async def test_allowing_private_ranges_still_refuses_metadata_and_multicast() -> None:
    allowed = await resolve("http://127.0.0.1:9/h", allow_private=True, resolver=_no_dns)
    assert allowed.url == "http://127.0.0.1:9/h"
    for url in ("http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://224.0.0.1/"):
        with pytest.raises(Refused):
            await resolve(url, allow_private=True, resolver=_no_dns)


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(Refused):
        await resolve(
            "http://no-such-host.invalid/h", allow_private=False, resolver=system_resolver
        )
