"""Serving a published site from ``tynys serve --site DIR``, so a laptop host is a whole station:
nodes post their records and people read the map from the same address.

    server.route("GET", "/", static.handler(Path("site")), prefix=True)   # and "HEAD"

GET and HEAD of the site's own files: those the latest ``tynys publish --out DIR`` listed in
``.tynys-site.json`` (``index.html`` for a folder), read again when a rebuild rewrites the list;
with ``Last-Modified`` and ``ETag`` (aiohttp's ``FileResponse``) and ``Cache-Control: no-cache``,
so a browser asks again after each hourly rebuild and gets 304 when nothing changed. Nothing else
is served: not the list, not a rebuild's temporary files, not a file someone put beside the site.
A folder that holds files tynys publish did not write is refused; a missing or empty one is
served as it fills (404 until the first publish).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from aiohttp import web

from ..transport.httpserver import Handler, HttpError
from .folder import MANIFEST, foreign_files, own_files
from .snapshot import PublishError


def handler(root: Path) -> Handler:
    root = Path(root).resolve()
    if root.exists() and not root.is_dir():
        raise PublishError(f"--site {root} is a file: give the folder tynys publish --out wrote")
    foreign = foreign_files(root, own_files(root))
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise PublishError(f"--site {root} holds files tynys publish did not write ({shown}): serving it would publish "
                           "them; give the folder tynys publish --out wrote (or an empty one it will write)")
    seen: dict = {"stamp": None, "files": set()}

    def own() -> set[str]:
        try:
            st = (root / MANIFEST).stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp != seen["stamp"]:
            try:
                seen["files"] = own_files(root) if stamp else set()
            except PublishError:
                return seen["files"]  # not a list we can read (a rebuild replaces it whole): the last one stands
            seen["stamp"] = stamp
        return seen["files"]

    async def serve(request: web.BaseRequest) -> web.StreamResponse:
        parts = PurePosixPath(request.path).parts[1:]  # aiohttp has decoded %xx and removed "." segments
        rel = "/".join(parts)
        if not parts or (root / rel).is_dir():
            rel = f"{rel}/index.html".lstrip("/")
        if rel not in own():
            raise HttpError(404, f"not found: {request.path} (the site is served from {root})")
        path = root / rel
        try:
            path = path.resolve(strict=True)
        except (FileNotFoundError, RuntimeError):
            raise HttpError(404, f"not found: {request.path}") from None
        if root not in path.parents or not path.is_file():
            raise HttpError(404, "not found")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return serve
