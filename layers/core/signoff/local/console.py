"""The web console's built files at /console: locally, what CloudFront and the console bucket do.

`console/dist` (built by `make console`) is served as it is; any other path under /console is a
page of the single-page app and gets index.html, the same rewrite the CloudFront function in
template.yaml makes. Hashed assets are cached for good; everything else is revalidated, so a new
build shows at the next load.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

CONSOLE_PATH = "/console"
NOT_BUILT = "The console is not built: run `make console` (or `make dev`), then reload."
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


def default_console_directory(repository_root: Path) -> Path:
    return repository_root / "console" / "dist"


class ConsoleFiles:
    """Serves one built console directory under /console."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def routes(self) -> list[BaseRoute]:
        return [
            Route(CONSOLE_PATH, self._to_index, methods=["GET", "HEAD"]),
            Route(f"{CONSOLE_PATH}/{{path:path}}", self.serve, methods=["GET", "HEAD"]),
        ]

    async def _to_index(self, request: Request) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{CONSOLE_PATH}/{query}", status_code=308)

    async def serve(self, request: Request) -> Response:
        root = self.directory.resolve()
        index = root / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=404)
        relative = request.path_params.get("path", "")
        if relative:
            candidate = (root / relative).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                immutable = candidate.parent == root / "assets"
                return FileResponse(
                    candidate, headers={"Cache-Control": _IMMUTABLE if immutable else _REVALIDATE}
                )
            if PurePosixPath(relative).suffix:
                # A file the build does not have: answering with the page would hide the mistake.
                return PlainTextResponse(f"No file {relative} in the console.", status_code=404)
        return FileResponse(index, headers={"Cache-Control": _REVALIDATE})
