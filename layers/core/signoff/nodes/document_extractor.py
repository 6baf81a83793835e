"""document-extractor: the text of a file (or of each file of a list) given by reference.

Reads txt, md (and other plain-text kinds: json, yaml, xml, log), csv (as a Markdown table, as
Dify renders it), html (the visible text), pdf (pypdf) and docx (python-docx: paragraphs and
tables in document order). The kind is told by the file's extension, else its MIME type.
Output `text`: a string, or a list of strings with `is_array_file`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from signoff.graph.model import DocumentExtractorNode
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import TextExtractionFailed, UnsupportedFileType
from signoff.nodes.files import LoadedFile, load_file
from signoff.nodes.variables import VariableScope


def inputs(node: DocumentExtractorNode, scope: VariableScope) -> dict[str, Any]:
    return {"variable_selector": scope.resolve(node.variable_selector)}


def run(
    node: DocumentExtractorNode, inputs: dict[str, Any], context: NodeContext
) -> dict[str, Any]:
    value = inputs["variable_selector"]
    if node.is_array_file or isinstance(value, list):
        files = value if isinstance(value, list) else [] if value is None else [value]
        texts = [extract_text(load_file(item, context)) for item in files]
        return {"text": texts if node.is_array_file else "\n".join(texts)}
    if value is None:
        return {"text": ""}
    return {"text": extract_text(load_file(value, context))}


def extract_text(file: LoadedFile) -> str:
    extractor = _EXTRACTORS.get(file.extension) or _BY_MIME_TYPE.get(file.mime_type)
    if extractor is None and file.mime_type.startswith("text/"):
        extractor = _plain_text
    if extractor is None:
        kind = file.extension or file.mime_type or "unknown"
        raise UnsupportedFileType(
            f"{file.filename}: files of type {kind} are not supported "
            f"(supported: {', '.join(sorted(_EXTRACTORS))})"
        )
    try:
        return extractor(file.content)
    except (UnsupportedFileType, TextExtractionFailed):
        raise
    except Exception as error:
        raise TextExtractionFailed(
            f"{file.filename}: the text could not be read ({type(error).__name__}: {error})"
        ) from error


def decode(content: bytes) -> str:
    """Text in UTF-8 (with or without a BOM) or UTF-16 with a BOM; else read as Windows-1252,
    which maps every byte, so a legacy file still reads."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _plain_text(content: bytes) -> str:
    return decode(content)


def _csv(content: bytes) -> str:
    rows = list(csv.reader(io.StringIO(decode(content))))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return ""
    width = max(len(row) for row in rows)

    def line(cells: list[str]) -> str:
        padded = [cell.replace("|", "\\|").replace("\n", " ") for cell in cells]
        padded += [""] * (width - len(cells))
        return "| " + " | ".join(padded) + " |"

    header, *body = rows
    return "\n".join([line(header), "| " + " | ".join(["---"] * width) + " |", *map(line, body)])


class _VisibleText(HTMLParser):
    _HIDDEN = frozenset({"script", "style", "template", "noscript", "head"})
    _BLOCKS = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "header",
            "footer",
            "ul",
            "ol",
            "table",
            "pre",
            "blockquote",
            "title",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _html(content: bytes) -> str:
    parser = _VisibleText()
    parser.feed(decode(content))
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _pdf(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return "\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()


def _docx(content: bytes) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = Document(io.BytesIO(content))
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Table):
            rows = [[cell.text.strip() for cell in row.cells] for row in block.rows]
            if rows:
                buffer = io.StringIO()
                csv.writer(buffer).writerows(rows)
                parts.append(_csv(buffer.getvalue().encode()))
    return "\n".join(parts).strip()


_EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    ".txt": _plain_text,
    ".text": _plain_text,
    ".md": _plain_text,
    ".markdown": _plain_text,
    ".mdx": _plain_text,
    ".json": _plain_text,
    ".yaml": _plain_text,
    ".yml": _plain_text,
    ".xml": _plain_text,
    ".log": _plain_text,
    ".csv": _csv,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
}
_BY_MIME_TYPE: dict[str, Callable[[bytes], str]] = {
    "text/csv": _csv,
    "text/html": _html,
    "application/pdf": _pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx,
    "application/json": _plain_text,
}
