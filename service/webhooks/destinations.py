"""Where a delivery may go: the SSRF guard, checked at every send.

A subscription's URL is checked when it is created, but the addresses its name resolves to are
checked again at each send, and the connection is made to the very address that was checked (the
Host header and TLS server name stay the URL's): a name that resolved to a public address at
subscribe time and to 127.0.0.1 now (DNS rebinding) is refused, not followed. Redirects are never
followed. `LEDGER_WEBHOOK_ALLOW_PRIVATE` opens private ranges for development and tests only;
production refuses to start with it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
"""Cloud metadata services (AWS, ECS, Alibaba, AWS over IPv6): refused even where private
ranges are allowed, since reaching one hands out the host's credentials."""


class Refused(Exception):
    """The destination may not be delivered to; the message says why, without the address."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _unmapped(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64): it is where the
    packets end up, so it is what is checked."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        for embedded in (address.ipv4_mapped, address.sixtofour):
            if embedded is not None:
                return embedded
        if address.teredo is not None:
            return address.teredo[1]
    return address


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why this address is refused, or None when it may be delivered to."""
    address = _unmapped(address)
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if not address.is_global:
        return "a private or reserved address"
    return None


@dataclass(frozen=True)
class Destination:
    """A checked place to send to: connect to `address`, name the URL's host in Host and SNI."""

    url: str
    """The URL with the checked address in place of the host name."""
    host: str
    host_header: str
    scheme: str = "https"
    address: str = ""
    """The checked address itself, what to connect to."""
    port: int = 443
    target: str = "/"
    """The request target: the URL's path and query."""


async def resolve(url: str, *, allow_private: bool, resolver: Resolver) -> Destination:
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise Refused("the URL is not an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise Refused("the host name does not resolve") from error
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not addresses:
            raise Refused("the host name does not resolve")
    # Every address must pass, not only the first: a resolver may return them in any order.
    for address in addresses:
        why = refusal(address, allow_private=allow_private)
        if why is not None:
            raise Refused(f"the destination resolves to {why}")
    chosen = addresses[0]
    shown = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{shown}:{port}"
    target = parts._replace(netloc=netloc).geturl()
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host and literal is not None and literal.version == 6:
        host_header = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    path = parts.path or "/"
    request_target = f"{path}?{parts.query}" if parts.query else path
    return Destination(target, host, host_header, parts.scheme, str(chosen), port, request_target)
