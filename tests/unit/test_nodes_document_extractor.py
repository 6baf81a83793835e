"""document-extractor on files served by a local server (remote_url, loopback exempted from the
address guard). Uploaded files (local_file, s3 URLs) are read from moto's S3 in
tests/integration/test_work_nodes.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from signoff.graph.model import parse_node
from signoff.net import AddressGuard, AddressNotAllowed
from signoff.nodes import document_extractor
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import FileUnavailable, TextExtractionFailed, UnsupportedFileType
from signoff.nodes.event import RunContext
from signoff.nodes.files import load_file
from signoff.nodes.integrations import Integrations
from signoff.nodes.variables import VariableScope
from tests.support.documents import DOCX_MIME, docx_with, pdf_with_lines
from tests.support.local_http import LocalHttpServer, Reply

RUN = RunContext(run_id="run-1", tenant_id="tenant-a", workflow_id="wf")

DOCUMENTS: dict[str, tuple[bytes, str]] = {
    "/notes.txt": (b"Plain notes\nsecond line", "text/plain"),
    "/readme.md": (b"# Title\n\n- item", "text/markdown"),
    "/table.csv": (b"name,age\nAda,36\n", "text/csv"),
    "/page.html": (
        b"<html><head><style>p{}</style></head><body><h1>Hello</h1>"
        b"<p>World &amp; <b>all</b></p><script>x()</script></body></html>",
        "text/html",
    ),
    "/report.pdf": (pdf_with_lines("Quarterly report", "Revenue grew"), "application/pdf"),
    "/memo.docx": (docx_with(["Memo", "Be brief."], [["k", "v"], ["a", "1"]]), DOCX_MIME),
    "/legacy.txt": ("café".encode("cp1252"), "text/plain"),
    "/download": (b"no extension but text", "text/plain; charset=utf-8"),
    "/image.png": (b"\x89PNG\r\n", "image/png"),
    "/broken.pdf": (b"%PDF-1.4 not really", "application/pdf"),
}


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        for path, (content, mime) in DOCUMENTS.items():
            running.route("GET", path, Reply(200, content, {"Content-Type": mime}))
        yield running


def extract(value: Any, *, is_array_file: bool = False, guard: AddressGuard | None = None) -> Any:
    node = parse_node(
        {
            "id": "extract",
            "type": "document-extractor",
            "variable_selector": ["start", "file"],
            "is_array_file": is_array_file,
        }
    )
    inputs = document_extractor.inputs(node, VariableScope({"start": {"file": value}}, {}))
    context = NodeContext(
        run=RUN,
        attempt=1,
        code_runner=None,  # type: ignore[arg-type]
        integrations=Integrations(guard=guard or AddressGuard(exempt=["127.0.0.1/32"])),
    )
    return document_extractor.run(node, inputs, context)["text"]


def remote(server: LocalHttpServer, path: str) -> dict[str, Any]:
    return {"type": "document", "transfer_method": "remote_url", "url": server.url(path)}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/notes.txt", "Plain notes\nsecond line"),
        ("/readme.md", "# Title\n\n- item"),
        ("/table.csv", "| name | age |\n| --- | --- |\n| Ada | 36 |"),
        ("/page.html", "Hello\nWorld & all"),
        ("/report.pdf", "Quarterly report\nRevenue grew"),
        ("/memo.docx", "Memo\nBe brief.\n| k | v |\n| --- | --- |\n| a | 1 |"),
        ("/legacy.txt", "café"),
        ("/download", "no extension but text"),
    ],
)
def test_given_a_supported_file_when_extracted_then_its_text_is_the_output(server, path, text):
    assert extract(remote(server, path)) == text


def test_given_an_array_of_files_when_extracted_then_each_has_its_text(server):
    files = [remote(server, "/notes.txt"), remote(server, "/readme.md")]

    assert extract(files, is_array_file=True) == ["Plain notes\nsecond line", "# Title\n\n- item"]


def test_given_dify_s_remote_url_spelling_and_a_declared_extension_then_it_is_used(server):
    file = {
        "transfer_method": "remote_url",
        "remote_url": server.url("/download"),
        "extension": "md",
    }

    assert extract(file) == "no extension but text"


def test_given_no_file_then_the_text_is_empty():
    assert extract(None) == ""
    assert extract(None, is_array_file=True) == []


def test_given_an_image_then_its_type_is_unsupported(server):
    with pytest.raises(UnsupportedFileType, match=r"\.png"):
        extract(remote(server, "/image.png"))


def test_given_a_damaged_pdf_then_extraction_failed(server):
    with pytest.raises(TextExtractionFailed, match=r"broken\.pdf"):
        extract(remote(server, "/broken.pdf"))


def test_given_a_url_answering_an_error_then_the_file_is_unavailable(server):
    with pytest.raises(FileUnavailable, match="HTTP 404"):
        extract(remote(server, "/missing.txt"))


def test_given_a_file_larger_than_the_limit_then_it_is_unavailable(server):
    context = NodeContext(
        run=RUN,
        attempt=1,
        code_runner=None,  # type: ignore[arg-type]
        integrations=Integrations(guard=AddressGuard(exempt=["127.0.0.1/32"])),
    )

    with pytest.raises(FileUnavailable, match="limit of 10"):
        load_file(remote(server, "/notes.txt"), context, max_bytes=10)


def test_given_a_file_on_the_metadata_address_then_it_is_refused():
    file = {"transfer_method": "remote_url", "url": "http://169.254.169.254/latest/user-data"}

    with pytest.raises(AddressNotAllowed):
        extract(file, guard=AddressGuard())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("just text", "expected a file object"),
        ({"transfer_method": "remote_url"}, "needs a url"),
        ({"transfer_method": "local_file", "upload_file_id": "../../other/x"}, "not a valid"),
        ({"transfer_method": "local_file", "upload_file_id": "abc"}, "no bucket"),
        ({"transfer_method": "carrier_pigeon", "url": "x"}, "not supported"),
        ({"transfer_method": "remote_url", "url": "ftp://x/y.txt"}, "http(s) or s3"),
    ],
)
def test_given_a_malformed_file_reference_then_the_file_is_unavailable(value, message):
    with pytest.raises(FileUnavailable, match=message.replace("(", r"\(").replace(")", r"\)")):
        extract(value)
