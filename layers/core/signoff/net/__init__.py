"""Outbound HTTP that cannot be turned against the deployment's own network.

Every request a workflow makes (http-request, tool and retriever URLs, remote files) goes through
`guarded_client`: each host is resolved once, every address it resolves to is checked against
the refused ranges (loopback, private, link-local with the cloud metadata address, unspecified,
multicast, reserved), and the connection is made to the checked address itself, so a DNS answer
that changes between the check and the connect (rebinding) cannot reach a refused address.
Redirects are followed hop by hop and each hop's connection is checked the same way.
"""

from signoff.net.addresses import refusal_reason
from signoff.net.client import GuardedTransport, guarded_client
from signoff.net.guard import AddressGuard, AddressNotAllowed, Resolver

__all__ = [
    "AddressGuard",
    "AddressNotAllowed",
    "GuardedTransport",
    "Resolver",
    "guarded_client",
    "refusal_reason",
]
