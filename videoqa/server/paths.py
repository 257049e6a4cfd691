"""Which files the server may read: paths given by clients must lie under a media root."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path, PurePath

from .errors import Forbidden, Invalid


def media_path(raw: str, roots: Sequence[Path]) -> Path:
    """The file `raw` names (absolute, or relative to the first root), refused unless it resolves inside a
    media root. `..` is refused outright, before any file system look-up."""
    if not raw or not raw.strip():
        raise Invalid("The body needs a \"path\": a video file under a media root.")
    if ".." in PurePath(raw).parts:
        raise Invalid(f"The path {raw!r} contains '..'. Give the file's path under a media root without '..'.")
    if not roots:
        raise Forbidden("This server has no media root, so it indexes uploads only. Restart it with --media-root DIR.")
    candidate = Path(raw).expanduser()
    resolved = (candidate if candidate.is_absolute() else roots[0] / candidate).resolve()
    for root in roots:
        if resolved.is_relative_to(root.resolve()):
            return resolved
    shown = ", ".join(str(r) for r in roots)
    raise Forbidden(f"The path {raw!r} is outside the media roots ({shown}). Move the file there or upload it.")


def upload_name(filename: str | None) -> str:
    """A safe file name for an upload: the client's base name with anything odd replaced."""
    base = PurePath((filename or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    return cleaned or "upload.mp4"
