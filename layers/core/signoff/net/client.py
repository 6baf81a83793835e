"""An httpx client whose every connection goes to an address the guard checked.

httpcore asks its network backend for a TCP connection to (host, port); the pinned backend
resolves the host through the guard and connects to the checked IP address itself. The request
keeps its URL, so the Host header and TLS (SNI and certificate checks) still use the host name.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from signoff.net.guard import AddressGuard, AddressNotAllowed

_SOCKET_OPTION = Any


class _PinnedBackend(httpcore.NetworkBackend):
    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._guard.vet(host, port)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return self._tcp.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise AddressNotAllowed(f"refused to connect to the unix socket {path}")

    def sleep(self, seconds: float) -> None:
        self._tcp.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's HTTP transport with the pinned backend; no proxy (a proxy would be what the guard
    checks, not the destination)."""

    def __init__(self, guard: AddressGuard, *, verify: ssl.SSLContext | bool = True) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else _ssl_context(verify)
        super().__init__(verify=context, trust_env=False)
        # httpx builds its connection pool without a way to pass a network backend: replace it
        # with one that has the pinned backend (tests/unit/test_net_guard.py proves it is used).
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, network_backend=_PinnedBackend(guard)
        )


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    # Loading the CA bundle costs far more than a request to a nearby service: once a process.
    return httpx.create_ssl_context(verify=verify, trust_env=False)


def guarded_client(
    guard: AddressGuard,
    *,
    timeout: httpx.Timeout | float = 30.0,
    verify: ssl.SSLContext | bool = True,
    follow_redirects: bool = True,
    max_redirects: int = 10,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """An httpx client for outbound requests: guarded connections, no environment proxies or
    .netrc credentials, redirects followed (each hop's connection checked again)."""
    return httpx.Client(
        transport=GuardedTransport(guard, verify=verify),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
        headers=headers,
    )
