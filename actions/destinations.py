"""Where outbound webhooks may go: public internet addresses, plus what the operator allows.

A team manager types the URL, and the server makes the request from inside the network, so
an unchecked URL reaches loopback services, the private network and the cloud metadata
endpoint (169.254.169.254), and the delivery log would tell the manager what answered there.
The address is therefore checked twice: when the endpoint is saved (names that resolve now,
literal addresses) and at delivery, on the very address the connection is made to, so a name
that later resolves somewhere private (DNS rebinding) is refused too.

`DEBRIEF_WEBHOOK_ALLOWED_HOSTS` lets on-premise trackers through: host names (exact match)
and addresses or networks in CIDR form, e.g. `jira.corp.example,10.20.0.0/16`.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that mean "this machine" without any DNS involved.
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class RefusedDestination(ValueError):
    """The URL points somewhere webhooks may not go; the message says why, for people."""


def _allow_list() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names, networks = set(), []
    for entry in getattr(settings, "DEBRIEF_WEBHOOK_ALLOWED_HOSTS", []):
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, not a public v6 host
    return address.is_global and not address.is_multicast


def check_address(address: Address, host: str) -> None:
    """Refuse one resolved address unless it is public or allowed by the operator."""
    names, networks = _allow_list()
    if host.lower().rstrip(".") in names or any(address in net for net in networks):
        return
    if not _public(address):
        where = str(address) if host == str(address) else f"{host} points to {address}, which"
        raise RefusedDestination(
            f"{where} is a private, loopback or link-local address. Webhooks "
            "go to public addresses only; an administrator can allow an on-premise host with "
            "DEBRIEF_WEBHOOK_ALLOWED_HOSTS."
        )


def host_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedDestination("Use an http:// or https:// address.")
    if not parts.hostname:
        raise RefusedDestination("The address has no host name.")
    return parts.hostname


def check_url(url: str) -> None:
    """The check when an endpoint is saved: literal addresses and names that resolve now.

    A name that does not resolve yet is accepted (the tracker may not be in DNS yet); delivery
    checks the address it actually connects to.
    """
    host = host_of(url)
    names, _ = _allow_list()
    if host.lower().rstrip(".") in names:
        return
    if host.lower().rstrip(".") in LOCAL_NAMES or host.lower().endswith(".localhost"):
        raise RefusedDestination(f"{host} is this server itself; webhooks go to other hosts.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal, host)
        return
    for address in resolve(host, urlsplit(url).port or 443):
        check_address(address, host)


def resolve(host: str, port: int) -> list[Address]:
    """Every address the name resolves to now; empty when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def guarded_connect(address: tuple[str, int], timeout=None, source_address=None):
    """`socket.create_connection` that connects only to addresses that pass `check_address`.

    Resolving here, on the connection itself, is what defeats DNS rebinding: the address that
    was checked is the address that is connected to.
    """
    host, port = address
    infos = []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise OSError(f"{host} does not resolve: {err.strerror}") from err
    last_error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        check_address(ipaddress.ip_address(sockaddr[0].split("%")[0]), host)
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as err:
            sock.close()
            last_error = err
    raise last_error or OSError(f"{host} has no address")
