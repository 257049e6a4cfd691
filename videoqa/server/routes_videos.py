"""/api/videos and /api/jobs: the library, adding videos (a path under a media root, or an upload),
indexing progress, the file for the player (byte ranges), clips and thumbnails."""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.formparsers import MultiPartException, MultiPartParser

from videoqa.clips import clip_file_name, export_clip
from videoqa.documents import videos_document
from videoqa.memory.hashing import content_hash
from videoqa.memory.probe import check_video

from .errors import Invalid, NotFound, TooLarge
from .paths import media_path, upload_name
from .sse import sse_response

router = APIRouter(tags=["videos"])
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")  # one path part, never '..'

_ADD_BODY = {
    "requestBody": {"content": {
        "application/json": {"schema": {"type": "object", "required": ["path"], "properties": {
            "path": {"type": "string", "description": "a video file under one of the server's media roots"}}}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "the video file (size limit: --max-upload-mb)"}}}},
    }, "required": True},
}


def _library(request: Request):
    return request.app.state.library


@router.get("/videos")
def list_videos(request: Request) -> dict:
    """Every video in the store with its status: "ready", or "indexing" while an ingest runs (or was cut short)."""
    return videos_document(_library(request).vqa.videos(include_indexing=True))


@router.post("/videos", status_code=202, openapi_extra=_ADD_BODY)
async def add_video(request: Request) -> dict:
    """Index a video: JSON {"path": ...} for a file under a media root, or a multipart upload (field "file").
    Answers {"job", "video"} at once; follow the job at /api/jobs/{job} or /api/jobs/{job}/events."""
    library = _library(request)
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        path = await _save_upload(request, library)
    elif kind.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError as exc:
            raise Invalid(f"The body is not JSON ({exc}). Send {{\"path\": \"...\"}}.") from exc
        raw = body.get("path") if isinstance(body, dict) else None
        path = media_path(raw if isinstance(raw, str) else "", library.config.media_roots)
    else:
        raise Invalid("Send JSON {\"path\": ...} or a multipart/form-data upload with a \"file\" field.")
    try:
        resolved, _ = await run_in_threadpool(check_video, path)  # a bad file is refused now, not in the job
        video_id = await run_in_threadpool(content_hash, resolved)
    except Exception:
        if path.is_relative_to(library.uploads):
            path.unlink(missing_ok=True)
        raise
    job = library.jobs.submit(resolved, video_id)
    return {"job": job.id, "video": video_id}


async def _save_upload(request: Request, library) -> Path:
    limit = library.config.max_upload_bytes
    refusal = TooLarge(f"The upload is larger than this server's limit of {limit // (1024 * 1024)} MB. "
                       "Index a file under a media root instead, or restart with a larger --max-upload-mb.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:  # room for the multipart envelope
        raise refusal

    async def counted() -> AsyncIterator[bytes]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + 64 * 1024:
                raise refusal
            yield chunk

    try:
        form = await MultiPartParser(request.headers, counted(), max_files=1, max_fields=4).parse()
    except MultiPartException as exc:
        raise Invalid(f"The upload could not be read: {exc}.") from exc
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise Invalid("The upload needs its video in a form field named \"file\".")
    library.uploads.mkdir(parents=True, exist_ok=True)
    target = library.uploads / f"{uuid.uuid4().hex[:8]}_{upload_name(upload.filename)}"
    try:
        with target.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                out.write(chunk)
        if target.stat().st_size > limit:
            raise refusal
        if target.stat().st_size == 0:
            raise Invalid("The uploaded file is empty.")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        await upload.close()
    return target


@router.get("/jobs/{job_id}")
def job_status(request: Request, job_id: str) -> dict:
    """An indexing job: state (queued, indexing, done, failed), stage, position/total seconds, error."""
    return _job(request, job_id).to_dict()


@router.get("/jobs/{job_id}/events")
def job_events(request: Request, job_id: str):
    """Server-sent events: `progress` with the job's state as it changes, then `done` or `failed`."""
    library, job = _library(request), _job(request, job_id)

    def events():
        for snapshot in library.jobs.follow(job):
            yield (snapshot["state"] if snapshot["state"] in ("done", "failed") else "progress"), snapshot

    return sse_response(events())


def _job(request: Request, job_id: str):
    job = _library(request).jobs.get(job_id)
    if job is None:
        raise NotFound(f"There is no job {job_id!r} (jobs last while the server runs). POST /api/videos starts one.")
    return job


@router.get("/videos/{video}")
def video_info(request: Request, video: str) -> dict:
    """One video: duration, size, scenes (the same document as `videoqa info --json`)."""
    return _library(request).vqa.video(video).to_dict()


@router.get("/videos/{video}/stream", response_class=FileResponse)
def stream_video(request: Request, video: str) -> FileResponse:
    """The video file for a player; honours byte ranges (206 Partial Content)."""
    return FileResponse(_source(request, video), content_disposition_type="inline")


@router.get("/videos/{video}/clip", response_class=FileResponse)
def clip(request: Request, video: str, start: float = Query(ge=0), end: float = Query(gt=0)) -> FileResponse:
    """The span [start, end) seconds as an MP4 (cut exactly, re-encoded)."""
    source = _source(request, video)
    folder = Path(tempfile.mkdtemp(prefix="videoqa-clip-"))
    name = clip_file_name(source, start, end)
    try:
        path = export_clip(source, start, end, folder / name)
    except BaseException:
        folder.rmdir()
        raise
    return FileResponse(path, media_type="video/mp4", filename=name,
                        background=BackgroundTask(lambda: (path.unlink(missing_ok=True), folder.rmdir())))


@router.get("/videos/{video}/thumbnail", response_class=FileResponse)
def thumbnail_at(request: Request, video: str, t: float = Query(0.0, ge=0)) -> FileResponse:
    """The keyframe thumbnail (JPEG) nearest to `t` seconds."""
    library = _library(request)
    row = library.vqa.store.nearest_keyframe(library.vqa.video(video).id, t)
    if row is None:
        raise NotFound(f"Video {video} has no keyframes yet; wait until it is indexed.")
    return FileResponse(library.vqa.store.absolute(row.thumbnail), media_type="image/jpeg")


@router.get("/thumbs/{video}/{name}", response_class=FileResponse)
def thumbnail(request: Request, video: str, name: str) -> FileResponse:
    """A thumbnail named by the last two parts of a `thumbnail` path in the JSON documents (VIDEO/FILE.jpg)."""
    store = _library(request).vqa.store
    target = store.thumbnail_dir(video) / name
    if not (_SAFE_NAME.fullmatch(video) and _SAFE_NAME.fullmatch(name) and target.is_file()):
        raise NotFound(f"There is no thumbnail {video}/{name}.")
    return FileResponse(target, media_type="image/jpeg")


def _source(request: Request, video: str) -> Path:
    path = Path(_library(request).vqa.video(video).path)
    if not path.is_file():
        raise NotFound(f"The file of video {video} is gone from {path}. Index it again from where it is now.")
    return path
