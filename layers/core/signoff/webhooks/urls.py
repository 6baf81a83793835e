"""Which URLs a webhook may be sent to: the outbound address guard's rules (signoff.net).

- https only; plain http only when the deployment allows private networks and the host is not
  public (the local cloud's receivers on loopback): a signed payload never crosses the internet
  in clear text;
- every address the host resolves to must be public (not loopback, private, link-local, the
  cloud metadata address, ...) unless the deployment allows private networks
  (SIGNOFF_ALLOW_PRIVATE_NETWORK);
- no credentials in the URL (they would be shown in every listing), no fragment.
The delivery function connects through the same guard, so a name that resolves elsewhere later
(DNS rebinding) is refused then too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from signoff.errors import InvalidInput
from signoff.net import AddressGuard, AddressNotAllowed, refusal_reason

MAX_URL_LENGTH = 2048


class WebhookUrlPolicy:
    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard

    def check(self, url: str, *, field: str = "url") -> str:
        """The URL when a webhook may be sent to it; InvalidInput naming `field` otherwise."""

        def refuse(reason: str) -> InvalidInput:
            return InvalidInput(f"{field}: {reason}", field=field)

        if len(url) > MAX_URL_LENGTH:
            raise refuse(f"at most {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise refuse(f"not a valid URL ({error})") from error
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise refuse("must be an https:// URL")
        host = parts.hostname
        if not host:
            raise refuse("must name a host")
        if parts.username is not None or parts.password is not None:
            raise refuse("must not carry credentials (user:password@)")
        if parts.fragment:
            raise refuse("must not have a fragment (#...)")
        try:
            addresses = self._guard.resolve(host, port or (443 if scheme == "https" else 80))
        except OSError as error:
            raise refuse(f"the host {host} does not resolve") from error
        for address in addresses:
            try:
                self._guard.check(address, host=host)
            except AddressNotAllowed as error:
                raise refuse(error.message) from error
        if scheme == "http" and not self._plain_http_allowed(addresses):
            raise refuse(
                "must be an https:// URL (plain http is allowed only for local receivers "
                "when the deployment allows private networks)"
            )
        return url

    def _plain_http_allowed(self, addresses: list) -> bool:
        return self._guard.allow_private_network and all(
            refusal_reason(address) is not None for address in addresses
        )
