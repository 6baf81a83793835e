"""The address guard: which addresses outbound requests may reach, and that a request connects to
the address that was checked (no second DNS answer), with its Host header and TLS name intact.

No request here leaves loopback: refused addresses are refused before any connection, and host
names resolve through a resolver the test controls.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from signoff.net import AddressGuard, AddressNotAllowed, guarded_client, refusal_reason
from tests.support.local_http import LocalHttpServer, Reply, echo


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("64:ff9b::a00:1", "private"),
        ("2002:a00:1::", "private"),
    ],
)
def test_given_a_non_public_address_then_it_is_refused_with_its_kind(address, reason):
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111"])
def test_given_a_public_address_then_it_is_allowed(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


def resolver_for(table: dict[str, list[str]], calls: list[str] | None = None) -> Any:
    """A getaddrinfo stand-in answering from `table` (and counting the questions)."""

    def resolve(host: str, port: int, family: int = 0, kind: int = 0) -> list[tuple[Any, ...]]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port),
            )
            for address in table[host]
        ]

    return resolve


def test_given_a_host_resolving_to_public_and_private_addresses_then_it_is_refused():
    guard = AddressGuard(resolver=resolver_for({"mixed.test": ["93.184.216.34", "10.0.0.5"]}))

    with pytest.raises(AddressNotAllowed, match=r"mixed\.test resolves to 10\.0\.0\.5, a private"):
        guard.vet("mixed.test", 443)


def test_given_allow_private_network_then_every_address_is_allowed():
    guard = AddressGuard(
        allow_private_network=True, resolver=resolver_for({"db.internal": ["10.0.0.5"]})
    )

    assert guard.vet("db.internal", 5432) == ["10.0.0.5"]
    assert guard.vet("169.254.169.254", 80) == ["169.254.169.254"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://127.0.0.1:9/",
        "http://127.1:9/",
        "http://[::1]:9/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://[::ffff:10.0.0.1]/",
        "http://metadata.test/",
    ],
)
def test_given_a_refused_address_when_requested_then_nothing_is_sent(url):
    table = resolver_for({"metadata.test": ["169.254.169.254"]})

    def resolve(host: str, port: int, *args: Any) -> Any:
        # Numeric forms such as 127.1 resolve on this machine, without asking DNS.
        return table(host, port) if host.endswith(".test") else socket.getaddrinfo(host, port)

    guard = AddressGuard(resolver=resolve)

    with guarded_client(guard) as client, pytest.raises(AddressNotAllowed, match="refused"):
        client.get(url)


def test_given_a_name_that_does_not_resolve_then_it_is_a_connect_error():
    guard = AddressGuard(resolver=resolver_for({}))

    with guarded_client(guard) as client, pytest.raises(httpx.ConnectError, match="resolve"):
        client.get("http://nowhere.test/")


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer({("GET", "/echo"): echo}) as running:
        yield running


def test_given_a_host_name_then_the_connection_goes_to_the_checked_address_with_its_host(server):
    # The resolver answers a loopback address the first time and a metadata address after: a
    # client that resolved the name again when connecting (DNS rebinding) would not reach the
    # test server, whose address was the one checked.
    calls: list[str] = []
    answers = iter([["127.0.0.1"], ["169.254.169.254"], ["169.254.169.254"]])

    def rebinding(host: str, port: int, family: int = 0, kind: int = 0) -> list[tuple[Any, ...]]:
        return resolver_for({host: next(answers)}, calls)(host, port)

    guard = AddressGuard(exempt=["127.0.0.1/32"], resolver=rebinding)

    with guarded_client(guard) as client:
        response = client.get(f"http://api.rebind.test:{server.port}/echo")

    assert response.status_code == 200
    assert response.json()["headers"]["host"] == f"api.rebind.test:{server.port}"
    assert calls == ["api.rebind.test"]


def test_given_a_redirect_to_the_metadata_address_then_the_hop_is_refused(server):
    server.route(
        "GET",
        "/hop",
        Reply(302, "", {"Location": "http://169.254.169.254/latest/meta-data/"}),
    )
    guard = AddressGuard(exempt=["127.0.0.1/32"])

    with guarded_client(guard) as client, pytest.raises(AddressNotAllowed, match="metadata"):
        client.get(server.url("/hop"))

    assert [request.path for request in server.received] == ["/hop"]


def test_given_a_redirect_to_an_allowed_address_then_it_is_followed(server):
    server.route("GET", "/hop", Reply(302, "", {"Location": server.url("/echo")}))
    guard = AddressGuard(exempt=["127.0.0.1/32"])

    with guarded_client(guard) as client:
        response = client.get(server.url("/hop"))

    assert response.json()["path"] == "/echo"


def test_given_loopback_not_exempt_then_even_the_test_server_is_refused(server):
    with guarded_client(AddressGuard()) as client, pytest.raises(AddressNotAllowed):
        client.get(server.url("/echo"))

    assert server.received == []


# ---------------------------------------------------------------- TLS keeps the host's name


def _self_signed(directory: Path, hostname: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[str]]]:
    cert, key = _self_signed(tmp_path, "secure.signoff.test")
    server_names: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            body = b"secure hello"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)  # type: ignore[assignment,misc]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], cert, server_names
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_given_https_to_a_name_then_sni_and_the_certificate_check_use_the_name(tls_server):
    port, cert, server_names = tls_server
    guard = AddressGuard(
        exempt=["127.0.0.1/32"],
        resolver=resolver_for({"secure.signoff.test": ["127.0.0.1"]}),
    )
    trust = ssl.create_default_context(cafile=str(cert))

    with guarded_client(guard, verify=trust) as client:
        response = client.get(f"https://secure.signoff.test:{port}/")

    assert response.text == "secure hello"
    assert server_names == ["secure.signoff.test"]


def test_given_https_to_a_name_the_certificate_does_not_cover_then_it_fails(tls_server):
    port, cert, _ = tls_server
    guard = AddressGuard(
        exempt=["127.0.0.1/32"], resolver=resolver_for({"other.signoff.test": ["127.0.0.1"]})
    )
    trust = ssl.create_default_context(cafile=str(cert))

    with guarded_client(guard, verify=trust) as client, pytest.raises(httpx.ConnectError):
        client.get(f"https://other.signoff.test:{port}/")
