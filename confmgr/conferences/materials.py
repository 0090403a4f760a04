"""Topic materials: links, or files kept in the instance folder under names we choose."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from confmgr.audit.services import record
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import Topic, TopicMaterial
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, utcnow
from confmgr.text import normalise

#: What may be uploaded, and the type it is always served as (never the uploader's claim).
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".txt": "text/plain",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}


def upload_folder() -> Path:
    folder = Path(current_app.instance_path) / "uploads" / "materials"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def add_link(topic: Topic, title: str, url: str) -> TopicMaterial:
    if urlsplit(url).scheme not in ("http", "https"):
        raise RuleBroken([Problem("url", _("Chỉ nhận đường dẫn http:// hoặc https://."))])
    material = TopicMaterial(topic=topic, title=title.strip(), url=url.strip())
    db.session.add(material)
    record("material.add", target=material, conference_id=topic.conference_id,
           topic=topic.number, title=material.title, url=material.url)
    return material


def add_file(topic: Topic, title: str, upload: FileStorage) -> TopicMaterial:
    """Store an uploaded file and add its row; the caller commits with commit_file."""
    # No NUL or other control, and no folders: a Windows path's backslashes split too.
    original = normalise(upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    extension = Path(original).suffix.lower()
    if extension not in CONTENT_TYPES:
        raise RuleBroken([Problem("file", _(
            "Loại tệp %(ext)s không được nhận. Nhận: %(allowed)s.",
            ext=extension or "?", allowed=", ".join(sorted(CONTENT_TYPES)),
        ))])
    limit = current_app.config["MATERIAL_MAX_BYTES"]
    stored_name = f"{uuid.uuid4().hex}{extension}"
    path = upload_folder() / stored_name
    upload.save(path)
    with _removed_on_failure(path):
        size = path.stat().st_size
        if size > limit or size == 0:
            raise RuleBroken([Problem("file", _(
                "Tệp rỗng hoặc lớn hơn %(mb)d MB.", mb=limit // (1024 * 1024)
            ))])
        material = TopicMaterial(
            topic=topic, title=title.strip(), stored_name=stored_name,
            original_name=_shortened(original, extension),
            content_type=CONTENT_TYPES[extension], size=size,
        )
        db.session.add(material)
        # The audit entry flushes the row: a busy database fails here, the file saved.
        record("material.add", target=material, conference_id=topic.conference_id,
               topic=topic.number, title=material.title, file=original, size=size)
    return material


def commit_file(material: TopicMaterial) -> None:
    """Commit a material add_file stored, removing its file if the commit fails."""
    with _removed_on_failure(file_path(material)):
        db.session.commit()


@contextmanager
def _removed_on_failure(path: Path) -> Iterator[None]:
    # A file no row names is never served nor removed: it would be kept for nothing.
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _shortened(name: str, extension: str, limit: int = 255) -> str:
    """A file name within the column's ``limit``, its extension kept: a download named
    without ".pdf" opens in nothing."""
    if len(name) <= limit:
        return name
    return name[:len(name) - len(extension)][:limit - len(extension)].rstrip() + extension


def remove(material: TopicMaterial) -> None:
    """Stop offering a material. The row and file stay: published versions may still list it."""
    if material.removed_at is not None:  # removed already: it keeps when it was
        return
    material.removed_at = utcnow()
    record("material.remove", target=material, conference_id=material.topic.conference_id,
           title=material.title)


def file_path(material: TopicMaterial) -> Path:
    return upload_folder() / material.stored_name
