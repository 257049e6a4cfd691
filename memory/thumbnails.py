"""Keyframe thumbnails are derived files: one that is missing or unreadable is made again from the video."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2

from videoqa.errors import VideoQAError

from .enrich import thumbnail_writer
from .hashing import content_hash
from .probe import check_video
from .readers import open_reader
from .store import KeyframeRow, Store

log = logging.getLogger(__name__)


def readable(path: Path) -> bool:
    return path.is_file() and cv2.imread(str(path)) is not None


def repair(store: Store, video_id: str, keyframes: list[KeyframeRow]) -> tuple[int, str]:
    """Make again the thumbnails of `keyframes` (of one video) that are missing or unreadable, decoding
    the frames from the video file as ingest did. Returns (how many were remade, why the others could not be:
    "" when all were)."""
    broken = [k for k in keyframes if not readable(store.absolute(k.thumbnail))]
    if not broken:
        return 0, ""
    row = store.video_row(video_id)
    if row is None:
        return 0, f"video {video_id} is not in the store"
    try:
        path, info = check_video(row.path)
    except VideoQAError as exc:
        return 0, f"its video cannot be read ({exc})"
    if content_hash(path) != video_id:
        return 0, f"{row.path} is no longer the video that was indexed (its content changed)"
    files: dict[str, bytes] = {}
    width = int(row.settings.get("thumbnail_width", 320))
    write = thumbnail_writer(files, width)
    reader = open_reader(path, info, "pyav")
    try:
        frames = reader.frames_at([k.time for k in broken], width)
    finally:
        reader.close()
    for keyframe, (_, image) in zip(sorted(broken, key=lambda k: k.time), frames):
        write(keyframe.thumbnail, image)
    store.write_files(files)
    remade = len(files)
    return remade, "" if remade == len(broken) else f"{len(broken) - remade} frames could not be decoded from {row.path}"


def ensure(store: Store, video_id: str, keyframe: KeyframeRow) -> str:
    """The thumbnail's absolute path, remade first if it went missing (search shows it as evidence)."""
    path = store.absolute(keyframe.thumbnail)
    if not path.is_file():
        _, problem = repair(store, video_id, [keyframe])
        if problem:
            log.warning("thumbnail %s is missing and cannot be made again: %s", path, problem)
    return str(path)
