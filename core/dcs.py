"""Telegram's production data centres: where a session of each DC id is reached, and which addresses
are Telegram's at all.

A ``.session`` file names a server address and port, but that is text the uploader wrote: any IP and
port (``127.0.0.1:6379``, ``169.254.169.254``) would become a connection target. So the address is
never taken from a file: intake writes the table's address for the file's DC id, and the Telethon
adapter corrects any stored file to it before connecting. The file's own address is only *judged*
(``is_foreign``), so the admin can be told it was ignored.

Sources: the IPv4 addresses are Telethon's own (v2 ``client/client/net.py``
``KNOWN_DCS``; v1 ``telegrambaseclient.py`` ``DEFAULT_IPV4_IP`` for DC 2), the IPv6 ones Telegram
Desktop's built-in list (``mtproto_dc_options.cpp`` ``kBuiltInDcsIPv6``; DC 2 equals Telethon v1's
``DEFAULT_IPV6_IP``). Telegram's address networks are its published list,
https://core.telegram.org/resources/cidr.txt.

Telegram's test servers (a ``test_mode`` session, accepted only with ``[pool] allow_test_servers``) have
their own table, never mixed with the production one: DC ids 1..3, from Telegram Desktop's built-in list
(``mtproto_dc_options.cpp`` ``kBuiltInDcsTest`` and ``kBuiltInDcsIPv6Test``, port 443; Telethon's
documentation names the same IPv4 addresses). A test session is never treated as a production one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

PORT: Final = 443
"""The port every address of the table is reached on."""

IPV4: Final[Mapping[int, str]] = MappingProxyType({
    1: "149.154.175.53",
    2: "149.154.167.51",
    3: "149.154.175.100",
    4: "149.154.167.92",
    5: "91.108.56.190",
})
IPV6: Final[Mapping[int, str]] = MappingProxyType({
    1: "2001:b28:f23d:f001::a",
    2: "2001:67c:4e8:f002::a",
    3: "2001:b28:f23d:f003::a",
    4: "2001:67c:4e8:f004::a",
    5: "2001:b28:f23f:f005::a",
})
DC_IDS: Final = tuple(sorted(IPV4))

NETWORKS: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "91.108.4.0/22", "91.108.8.0/22", "91.108.12.0/22", "91.108.16.0/22", "91.108.20.0/22",
        "91.108.56.0/22", "95.161.64.0/20", "149.154.160.0/20", "185.76.151.0/24",
        "2001:67c:4e8::/48", "2001:b28:f23c::/48", "2001:b28:f23d::/48", "2001:b28:f23f::/48",
        "2a0a:f280::/32",
    )
)
"""Telegram's published address networks (cidr.txt)."""

PORTS: Final = frozenset({80, 443, 5222})
"""Ports a Telegram DC address is legitimately stored with: 443 (every client's default), 80 (Telethon's
test-server examples; Telegram answers MTProto on it) and 5222 (Telegram's own apps use it as a
fallback). Any other port with a Telegram address is still reported as foreign: the address is
replaced anyway, and an unusual port in a bought file is worth the admin's notice."""


TEST_IPV4: Final[Mapping[int, str]] = MappingProxyType({
    1: "149.154.175.10",
    2: "149.154.167.40",
    3: "149.154.175.117",
})
TEST_IPV6: Final[Mapping[int, str]] = MappingProxyType({
    1: "2001:b28:f23d:f001::e",
    2: "2001:67c:4e8:f002::e",
    3: "2001:b28:f23d:f003::e",
})
TEST_DC_IDS: Final = tuple(sorted(TEST_IPV4))


def address_for(dc_id: int, *, ipv6: bool = False, test: bool = False) -> str:
    """The table's address of DC ``dc_id`` in the configured family: production (1..5), or Telegram's
    test servers (1..3) for a test-mode session."""
    if test:
        return (TEST_IPV6 if ipv6 else TEST_IPV4)[dc_id]
    return (IPV6 if ipv6 else IPV4)[dc_id]


def is_test_address(address: str) -> bool:
    """True when ``address`` (an IP in text form) is one of Telegram's test servers (either family)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip == ipaddress.ip_address(a) for a in (*TEST_IPV4.values(), *TEST_IPV6.values()))


def is_telegram_address(address: str) -> bool:
    """True when ``address`` (an IP in text form) lies in one of Telegram's published networks; an
    IPv4-mapped IPv6 form counts as its IPv4 address. Anything that does not parse is not Telegram's."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in NETWORKS)


def is_foreign(address: str, port: int) -> bool:
    """A stored server address the admin should be told about: not Telegram's, or on an odd port."""
    return not is_telegram_address(address) or port not in PORTS
