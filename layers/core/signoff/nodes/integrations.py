"""What the nodes that reach other systems use: the address guard, the tool and retriever
registries, and AWS clients (made on first use, so a node function that never calls a tool
never builds a Lambda client for one).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
from botocore.config import Config

from signoff.net import AddressGuard, guarded_client
from signoff.nodes.registry import RetrieverTarget, ToolTarget
from signoff.providers.credentials import CredentialResolver
from signoff.settings import Settings

# A tool or retriever function answers within its own timeout; a client read timeout shorter
# than that would make botocore invoke it a second time.
_AWS_CLIENT_CONFIG = Config(read_timeout=900, connect_timeout=10, retries={"max_attempts": 2})


class AwsClients:
    """boto3 clients by service (and region), made once each on first use; `clients` injects
    ready ones (tests: a moto-backed or Stubber-wrapped client) by service name."""

    def __init__(self, clients: Mapping[str, Any] | None = None) -> None:
        self._clients: dict[tuple[str, str | None], Any] = {
            (service, None): client for service, client in (clients or {}).items()
        }
        self._lock = threading.Lock()

    def get(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None and region is not None and (service, None) in self._clients:
                # An injected client stands for its service in every region.
                client = self._clients[(service, None)]
            if client is None:
                client = boto3.client(service, region_name=region, config=_AWS_CLIENT_CONFIG)
                self._clients[key] = client
        return client


@dataclass
class Integrations:
    guard: AddressGuard = field(default_factory=AddressGuard)
    tools: Mapping[str, ToolTarget] = field(default_factory=dict)
    retrievers: Mapping[str, RetrieverTarget] = field(default_factory=dict)
    aws: AwsClients = field(default_factory=AwsClients)
    # Where uploaded files (a Dify file's upload_file_id) live: the payloads bucket.
    uploads_bucket: str | None = None
    # Secrets by reference (an http-request api key `secretsmanager:<id>` or `ssm:<name>`).
    credentials: CredentialResolver = field(default_factory=CredentialResolver)

    @classmethod
    def from_settings(cls, settings: Settings) -> Integrations:
        return cls(
            guard=AddressGuard(allow_private_network=settings.allow_private_network),
            tools=dict(settings.tools),
            retrievers=dict(settings.retrievers),
            uploads_bucket=settings.payloads_bucket,
        )

    def http_client(
        self, *, timeout: httpx.Timeout | float = 30.0, verify: bool = True
    ) -> httpx.Client:
        """A client for one node's outbound requests (close it after use)."""
        return guarded_client(self.guard, timeout=timeout, verify=verify)
