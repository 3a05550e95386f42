"""The SSRF guard: an endpoint's URL may only lead to the public internet.

A URL is checked when it is registered and again before every POST, because what a name resolves to can
change in between (DNS rebinding): the host is resolved, every address it has must be global unicast,
and the POST then connects to one of exactly those addresses (`webhooks.sending`), never resolving again.
`WEBHOOKS_ALLOW_PRIVATE=1` lifts the address check (development and tests, whose receivers are local);
`WEBHOOKS_ALLOW_HTTP=1` allows plain http.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class AddressRefused(Exception):
    """The URL is not one we send to; the message says why (shown to the customer)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    host_header: str
    addresses: tuple[str, ...]


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _blocked(mapped)
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, path with query, Host header) of an acceptable URL; AddressRefused otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise AddressRefused("The URL is not valid.") from None
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise AddressRefused("The URL must start with https://.")
    if not parts.hostname:
        raise AddressRefused("The URL has no host.")
    if parts.username or parts.password:
        raise AddressRefused("The URL must not carry a user name or password.")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname
    shown_host = f"[{host}]" if ":" in host else host
    default_port = (parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)
    return parts.scheme, host, port, path, shown_host if default_port else f"{shown_host}:{port}"


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` has, each checked unless WEBHOOKS_ALLOW_PRIVATE; AddressRefused when one of
    them is private, loopback, link-local, multicast or reserved, or when the name does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(f"The host {host!r} could not be resolved.") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        for address in addresses:
            if _blocked(ipaddress.ip_address(address.split("%", 1)[0])):
                raise AddressRefused(f"{host} resolves to {address}, which is not a public address.")
    if not addresses:
        raise AddressRefused(f"The host {host!r} could not be resolved.")
    return addresses


def check_registration(url: str) -> None:
    """At registration: the URL's form, and unless private addresses are allowed, where its host leads."""
    _scheme, host, port, _path, _header = parse(url)
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        resolve(host, port)


def target(url: str) -> Target:
    """Before a POST: the URL checked again, with the addresses the POST may connect to."""
    scheme, host, port, path, host_header = parse(url)
    return Target(scheme, host, port, path, host_header, resolve(host, port))
