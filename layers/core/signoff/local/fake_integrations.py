"""Deterministic tools, a retriever and sample files that the local cloud serves on loopback.

They are test doubles for a deployment's own endpoints, registered like any other (template
parameters Tools and Retrievers): tool and knowledge-retrieval nodes reach them through the same
code path as a real endpoint, never a path of their own.

- `POST /tools/<name>` (`{"tool", "parameters"}`): the tools `local/echo` (answers its `text`
  parameter, or all parameters as JSON), `local/word_count` (counts the words of `text`) and
  `local/fail` (always answers HTTP 500).
- `POST /retrievers/<dataset>` (`{"dataset_id", "query", "top_k", "score_threshold"}`): the
  dataset `handbook`, a few short documents scored by the share of query words they contain.
- `GET /files/<name>`: sample documents (handbook.md, prices.csv, about.html, notes.txt).
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOOLS = ("local/echo", "local/word_count", "local/fail")
DATASETS = ("handbook",)

HANDBOOK: dict[str, str] = {
    "leave.md": "Employees get 25 days of paid leave a year; unused days carry over once.",
    "expenses.md": "Expenses are refunded within 30 days when filed with a receipt.",
    "remote.md": "Remote work is allowed three days a week with your manager's agreement.",
    "security.md": "Report a lost laptop to security within one hour.",
}
FILES: dict[str, tuple[str, str]] = {
    "handbook.md": ("# Handbook\n\nBe kind. Ship often.\n", "text/markdown"),
    "prices.csv": ("item,price\ntea,2.50\ncake,4.00\n", "text/csv"),
    "about.html": (
        "<html><head><title>About</title><script>track()</script></head>"
        "<body><h1>About us</h1><p>We make <b>workflows</b>.</p></body></html>",
        "text/html",
    ),
    "notes.txt": ("First note.\nSecond note.\n", "text/plain"),
}
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def run_tool(name: str, parameters: dict[str, Any]) -> tuple[int, Any]:
    if name == "echo":
        text = parameters.get("text")
        return 200, {"text": text if isinstance(text, str) else json.dumps(parameters)}
    if name == "word_count":
        text = str(parameters.get("text") or "")
        count = len(text.split())
        return 200, {"text": f"{count} words", "json": {"words": count, "characters": len(text)}}
    if name == "fail":
        return 500, {"error": "local/fail always fails"}
    return 404, {"error": f"no tool {name}"}


def retrieve(dataset: str, query: str, top_k: int) -> tuple[int, Any]:
    if dataset != "handbook":
        return 404, {"error": f"no dataset {dataset}"}
    asked = set(_words(query))
    records = []
    for title, content in HANDBOOK.items():
        found = asked & set(_words(content))
        if asked and found:
            records.append(
                {"content": content, "title": title, "score": round(len(found) / len(asked), 4)}
            )
    records.sort(key=lambda record: (-record["score"], record["title"]))
    return 200, {"records": records[:top_k]}


def create_app() -> Starlette:
    async def tool(request: Request) -> Response:
        body = await request.json()
        status, answer = run_tool(request.path_params["name"], body.get("parameters") or {})
        return JSONResponse(answer, status_code=status)

    async def retriever(request: Request) -> Response:
        body = await request.json()
        query, top_k = str(body.get("query") or ""), int(body.get("top_k") or 4)
        status, answer = retrieve(request.path_params["dataset"], query, top_k)
        return JSONResponse(answer, status_code=status)

    async def file(request: Request) -> Response:
        found = FILES.get(request.path_params["name"])
        if found is None:
            return Response("no such file", status_code=404)
        content, mime_type = found
        return Response(content, media_type=mime_type)

    return Starlette(
        routes=[
            Route("/tools/{name}", tool, methods=["POST"]),
            Route("/retrievers/{dataset}", retriever, methods=["POST"]),
            Route("/files/{name}", file, methods=["GET"]),
        ]
    )


class FakeIntegrationsServer:
    """The server on a local port, served from a side thread."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> str:
        config = uvicorn.Config(
            create_app(),
            host=self._host,
            port=self._port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.run, name="fake-integrations", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake integrations server did not start")
            time.sleep(0.02)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
            self._thread = None

    def registrations(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The tools and retrievers this server answers for, as SIGNOFF_TOOLS and
        SIGNOFF_RETRIEVERS entries."""
        tools = {name: {"url": f"{self.base_url}/tools/{name.split('/', 1)[1]}"} for name in TOOLS}
        retrievers = {name: {"url": f"{self.base_url}/retrievers/{name}"} for name in DATASETS}
        return tools, retrievers
