"""Which addresses a webhook may post to: the one rule, asked when a webhook is saved
(``check_url``) and again just before each delivery connects (``resolve_for_delivery``).

A webhook URL is chosen by an integrator, and the worker that posts to it sits inside
our network: without this rule a webhook is a way to make our servers call their own
loopback services, the intranet or the cloud metadata endpoint (which hands out
credentials). So only public unicast addresses are allowed, over http or https, unless
the operator names a host or network in ``WEBHOOKS_ALLOWED_HOSTS`` (receivers on the
intranet).

Saving checks what can be known without the network: the scheme, IP literals (in every
notation ``getaddrinfo`` accepts: ``127.1``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) and
names that are local or metadata services by definition. Delivery resolves the name,
refuses the delivery when *any* resolved address is forbidden, and then connects to one
of the addresses it checked (``delivery.post`` pins it), so a DNS answer that changes
between the check and the connection (rebinding) cannot reach a forbidden address.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

SCHEMES = {"http": 80, "https": 443}

#: Names that are this machine or a cloud metadata service, whatever DNS says.
LOCAL_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
#: Suffixes reserved for local or private use (RFC 6761 ``.localhost``, ICANN
#: ``.internal``, mDNS ``.local``).
LOCAL_SUFFIXES = (".localhost", ".internal", ".local")

#: Cloud metadata endpoints: refused even for a host named in the allowlist; only an
#: allowlist entry that names the address (or a network containing it) opens one.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class ForbiddenAddress(ValueError):
    """The URL may not be posted to; ``str()`` is the reason, for people."""


@dataclass(frozen=True)
class Allowlist:
    names: frozenset[str]
    suffixes: tuple[str, ...]
    networks: tuple

    @classmethod
    def from_settings(cls) -> "Allowlist":
        names, suffixes, networks = set(), [], []
        for entry in getattr(settings, "WEBHOOKS_ALLOWED_HOSTS", None) or ():
            entry = str(entry).strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("."):
                suffixes.append(entry)
            else:
                names.add(entry.rstrip("."))
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def names_host(self, host: str) -> bool:
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def names_address(self, address) -> bool:
        return any(address in network for network in self.networks)


def _embedded_ipv4(address):
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo)."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def is_public(address) -> bool:
    """A global unicast address: not loopback, private, link-local, unique-local,
    shared (CGNAT), multicast, reserved, unspecified or documentation."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_public(embedded)
    return address.is_global and not address.is_multicast


def address_allowed(address, *, host: str, allowlist: Allowlist) -> bool:
    if allowlist.names_address(address):
        return True
    embedded = _embedded_ipv4(address) or address
    if embedded in METADATA_ADDRESSES or address in METADATA_ADDRESSES:
        return False
    return is_public(address) or allowlist.names_host(host)


def _refused(host: str) -> ForbiddenAddress:
    return ForbiddenAddress(
        _(
            "%(host)s is a local, private, link-local or cloud metadata address; "
            "webhooks can only post to public addresses (an operator can allow "
            "intranet receivers with WEBHOOKS_ALLOWED_HOSTS)."
        )
        % {"host": host}
    )


def split(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL; ``ForbiddenAddress`` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ForbiddenAddress(_("Enter a valid URL."))
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ForbiddenAddress(_("Use an http:// or https:// address."))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ForbiddenAddress(_("Enter a valid URL."))
    return scheme, host, port or SCHEMES[scheme]


def _literal(host: str):
    """The address a host written as an IP literal means (any notation the resolver
    accepts), without asking DNS; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(
            host, None, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST
        )
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0].split("%", 1)[0])


def check_url(url: str) -> None:
    """Refuse (``ForbiddenAddress``) a URL that can be known to be forbidden without
    resolving it. Called when a webhook is created or its URL changes."""
    _scheme, host, _port = split(url)
    allowlist = Allowlist.from_settings()
    literal = _literal(host)
    if literal is not None:
        if not address_allowed(literal, host=host, allowlist=allowlist):
            raise _refused(host)
        return
    if allowlist.names_host(host):
        return
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES):
        raise _refused(host)


def resolve_for_delivery(url: str) -> tuple[str, str, int, list[str]]:
    """``(scheme, host, port, addresses)``: every address ``host`` resolves to, each
    checked. ``ForbiddenAddress`` if the URL or any address is forbidden;
    ``socket.gaierror`` if the name does not resolve (a failure worth retrying)."""
    check_url(url)
    scheme, host, port = split(url)
    allowlist = Allowlist.from_settings()
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0].split("%", 1)[0] for info in infos))
    for raw in addresses:
        if not address_allowed(
            ipaddress.ip_address(raw), host=host, allowlist=allowlist
        ):
            raise _refused(f"{host} ({raw})")
    return scheme, host, port, addresses
