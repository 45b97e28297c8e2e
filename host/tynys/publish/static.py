"""Serving a published site from ``tynys serve --site DIR``, so a laptop host is a whole station:
nodes post their records and people read the map from the same address.

    server.route("GET", "/", static.handler(Path("site")), prefix=True)   # and "HEAD"

GET and HEAD of the files under DIR (``index.html`` for a folder), with ``Last-Modified`` and
``ETag`` (aiohttp's ``FileResponse``) and ``Cache-Control: no-cache``, so a browser asks again
after each hourly rebuild and gets 304 when nothing changed. Nothing outside DIR is served, nor
hidden files (``.tynys-site.json``, the rebuild's temporary files).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from aiohttp import web

from ..transport.httpserver import Handler, HttpError


def handler(root: Path) -> Handler:
    root = Path(root).resolve()

    async def serve(request: web.BaseRequest) -> web.StreamResponse:
        parts = PurePosixPath(request.path).parts[1:]  # aiohttp has decoded %xx and removed "." segments
        if any(p.startswith(".") for p in parts):
            raise HttpError(404, "not found")
        path = root.joinpath(*parts)
        if path.is_dir():
            path = path / "index.html"
        try:
            path = path.resolve(strict=True)
        except (FileNotFoundError, RuntimeError):
            raise HttpError(404, f"not found: {request.path} (the site is served from {root})") from None
        if root not in path.parents or not path.is_file():
            raise HttpError(404, "not found")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return serve
