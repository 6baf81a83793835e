"""Which IP addresses outbound requests may reach: public unicast addresses only."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance metadata services (AWS, GCP, Azure, ...; AWS's IPv6 one too): named in refusals.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
# RFC 6598 shared address space (carrier-grade NAT): not public, though not "private" either.
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


def refusal_reason(address: IPAddress) -> str | None:
    """Why `address` may not be reached (e.g. "loopback"), or None for a public unicast one.

    An IPv6 address that embeds an IPv4 one (IPv4-mapped ::ffff:a.b.c.d, 6to4, Teredo) is judged
    by the address it leads to as well.
    """
    for candidate in (*_embedded_ipv4(address), address):
        reason = _reason(candidate)
        if reason is not None:
            return reason
    return None


def _reason(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "shared (carrier-grade NAT)"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    embedded = [address.ipv4_mapped, address.sixtofour]
    if address.teredo is not None:
        embedded.append(address.teredo[1])
    # NAT64's well-known prefix 64:ff9b::/96 carries the IPv4 address in its last 32 bits.
    if address in ipaddress.ip_network("64:ff9b::/96"):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [candidate for candidate in embedded if candidate is not None]
