"""Static files at addresses that name their content, kept by browsers for a year.

A phone on a slow link then downloads Bootstrap and htmx once and never asks again
whether they changed: a changed file gets a new address (``?v=`` and its digest).
"""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, request

YEAR = 365 * 24 * 3600


@cache
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    # Keyed by modification time and size too, so an edited file gets a new digest.
    return hashlib.blake2s(path.read_bytes(), digest_size=6).hexdigest()


def digest_of(static_folder: str, filename: str) -> str | None:
    """The digest of a file of the static folder, or None if there is no such file."""
    folder = Path(static_folder).resolve()
    path = (folder / filename).resolve()
    if folder not in path.parents or not path.is_file():
        return None
    found = path.stat()
    return _digest(path, found.st_mtime_ns, found.st_size)


#: The digests of a process that serves files as they were deployed: a page names a few
#: static files, and resolving and reading the status of each for every page cost more
#: than the rest of a small page.
_deployed_digest = cache(digest_of)


def init_app(app: Flask) -> None:
    # In debug mode, as templates are, files are read again when they change.
    version_of = digest_of if app.debug else _deployed_digest

    @app.url_defaults
    def name_the_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            version = version_of(app.static_folder, values.get("filename", ""))
            if version:
                values["v"] = version

    @app.after_request
    def keep_versioned_files(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        version = request.args.get("v")
        if version and version == version_of(app.static_folder, request.view_args["filename"]):
            response.cache_control.no_cache = None  # Flask's default for static files
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
