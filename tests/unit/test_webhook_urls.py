"""Which URLs a webhook may name: public https only, unless the deployment allows private ones."""

from __future__ import annotations

import socket

import pytest

from signoff.errors import InvalidInput
from signoff.net import AddressGuard
from signoff.webhooks.urls import WebhookUrlPolicy

# Names the tests resolve without DNS: getaddrinfo's answer shape.
HOSTS = {
    "hooks.example.com": ["93.184.216.34"],
    "rebound.example.com": ["93.184.216.34", "10.0.0.7"],
    "metadata.example.com": ["169.254.169.254"],
    "localhost": ["127.0.0.1"],
}


def resolver(host, port, family=0, kind=0):
    if host not in HOSTS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [(socket.AF_INET, kind, 6, "", (address, port)) for address in HOSTS[host]]


def policy(*, allow_private_network: bool = False) -> WebhookUrlPolicy:
    return WebhookUrlPolicy(
        AddressGuard(allow_private_network=allow_private_network, resolver=resolver)
    )


def test_given_a_public_https_url_then_it_is_accepted():
    url = "https://hooks.example.com/signoff?source=runs"

    assert policy().check(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "https"),
        ("ftp://hooks.example.com/in", "https"),
        ("https:///no-host", "host"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://hooks.example.com/in#frag", "fragment"),
        ("https://nowhere.invalid/in", "does not resolve"),
        ("https://127.0.0.1/in", "loopback"),
        ("https://localhost:8443/in", "loopback"),
        ("https://[::1]/in", "loopback"),
        ("https://10.1.2.3/in", "private"),
        ("https://192.168.0.10/in", "private"),
        ("https://172.16.5.4/in", "private"),
        ("https://169.254.10.10/in", "link-local"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://metadata.example.com/in", "metadata"),
        ("https://[fd00:ec2::254]/in", "metadata"),
        ("https://[::ffff:10.0.0.1]/in", "private"),
        ("https://rebound.example.com/in", "private"),
        ("https://0.0.0.0/in", "unspecified"),
        ("https://hooks.example.com:99999/in", "valid URL"),
    ],
)
def test_given_a_refused_url_then_400_naming_the_url_field_and_why(url, reason):
    with pytest.raises(InvalidInput) as refused:
        policy().check(url)

    assert refused.value.field == "url"
    assert refused.value.message.startswith("url: ")
    assert reason in refused.value.message


def test_given_private_networks_allowed_then_loopback_over_http_is_accepted():
    allowed = policy(allow_private_network=True)

    assert allowed.check("http://127.0.0.1:9000/hook") == "http://127.0.0.1:9000/hook"
    assert allowed.check("https://10.1.2.3/hook") == "https://10.1.2.3/hook"


def test_given_private_networks_allowed_then_plain_http_to_a_public_host_is_still_refused():
    with pytest.raises(InvalidInput) as refused:
        policy(allow_private_network=True).check("http://hooks.example.com/in")

    assert "https" in refused.value.message
