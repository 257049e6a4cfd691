"""Video readers, found by name. decord is preferred; PyAV reads everything decord cannot."""

from __future__ import annotations

import logging
from pathlib import Path

from videoqa.errors import SettingsError

from .base import DecodedFrame, VideoInfo, VideoReader
from .pyav_reader import NoVideoStream, PyAVReader, probe

log = logging.getLogger(__name__)

AVAILABLE_READERS: dict[str, type[VideoReader]] = {"pyav": PyAVReader}
try:
    from .decord_reader import DecordReader, decord

    if decord is not None:
        AVAILABLE_READERS["decord"] = DecordReader
except ImportError:  # pragma: no cover
    pass


def open_reader(path: Path, info: VideoInfo, backend: str = "auto", skim: bool = False) -> VideoReader:
    """Open `path` with `backend`; "auto" tries decord, then PyAV. `skim`: for ingest's pass over every
    frame (see `VideoReader`)."""
    if backend != "auto":
        if backend not in AVAILABLE_READERS:
            raise SettingsError(f"setting reader = {backend!r} is not available here: should be auto or one of "
                                f"{', '.join(sorted(AVAILABLE_READERS))}. Set by --reader or VIDEOQA_READER.")
        return AVAILABLE_READERS[backend](path, info, skim)
    if "decord" in AVAILABLE_READERS:
        try:
            return AVAILABLE_READERS["decord"](path, info, skim)
        except Exception as exc:  # decord raises its own untyped errors for files it cannot demux
            log.info("decord cannot open %s (%s); using PyAV", path, exc)
    return PyAVReader(path, info, skim)


__all__ = ["AVAILABLE_READERS", "NoVideoStream", "DecodedFrame", "VideoInfo", "VideoReader", "open_reader", "probe"]
