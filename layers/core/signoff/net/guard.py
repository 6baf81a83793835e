"""AddressGuard: resolve a host once and say which of its addresses a request may connect to."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from signoff.errors import NodeExecutionError
from signoff.net.addresses import IPAddress, refusal_reason

# getaddrinfo's signature (host, port, family, type): the guard's one way to resolve a name.
Resolver = Callable[..., Sequence[tuple[Any, ...]]]


class AddressNotAllowed(NodeExecutionError):
    """A request would have reached a refused address (loopback, private, link-local, metadata,
    ...); nothing was sent. SIGNOFF_ALLOW_PRIVATE_NETWORK lifts the refusal."""


class AddressGuard:
    """Vets hosts for outbound connections.

    `allow_private_network` lets every address through (a deployment whose workflows must reach
    its own network, and the local cloud, which serves on loopback); `exempt` lets through only
    the given networks (tests, or a single internal service).
    """

    def __init__(
        self,
        *,
        allow_private_network: bool = False,
        exempt: Iterable[str] = (),
        resolver: Resolver = socket.getaddrinfo,
    ) -> None:
        self.allow_private_network = allow_private_network
        self._exempt = tuple(ipaddress.ip_network(network) for network in exempt)
        self._resolver = resolver

    def vet(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to, in resolver order, when each one may be reached.

        AddressNotAllowed when any may not (a name that resolves to one public and one private
        address is refused: the connection could land on either). OSError when it does not
        resolve.
        """
        addresses = self.resolve(host, port)
        for address in addresses:
            self.check(address, host=host)
        return [str(address) for address in addresses]

    def check(self, address: IPAddress, *, host: str | None = None) -> None:
        if self.allow_private_network or any(address in net for net in self._exempt):
            return
        reason = refusal_reason(address)
        if reason is None:
            return
        named = str(address)
        if host and _ip_literal(host) is None:
            named = f"{host} resolves to {address}"
        raise AddressNotAllowed(
            f"refused to connect: {named}, a {reason} address (outbound requests reach public "
            "addresses only unless the deployment sets SIGNOFF_ALLOW_PRIVATE_NETWORK)",
            details={"host": host, "address": str(address), "reason": reason},
        )

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        literal = _ip_literal(host)
        if literal is not None:
            return [literal]
        try:
            answers = self._resolver(host, port, 0, socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise OSError(f"cannot resolve host {host}: {error}") from error
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _canonical, sockaddr in answers:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise OSError(f"cannot resolve host {host}: no addresses")
        return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
