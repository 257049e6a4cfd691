"""`create_app(config)`: one ASGI app with the JSON API under /api, the web page at /, OpenAPI at /docs.
Bodies are the CLI's `--json` documents (videoqa.documents); errors are {"error": one line}."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from videoqa import __version__
from videoqa.api import VideoQA
from videoqa.errors import VideoQAError
from videoqa.settings import Settings

from . import routes_ask, routes_videos
from .errors import Unauthorized, status_of
from .jobs import JobQueue

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = 2048


@dataclass(frozen=True)
class ServerConfig:
    store: Path | None = None  # None: $VIDEOQA_STORE or the user cache dir
    media_roots: tuple[Path, ...] = ()  # POST /api/videos {"path"} accepts files under these only
    token: str | None = None  # when set, every /api call but /api/health needs it
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    settings: Settings = field(default_factory=Settings)


class Library:
    """What the routes share: the config, one `VideoQA` for requests (agent runs and searches take turns
    under `lock`: two cores gain nothing from running them at once) and the indexing jobs."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.vqa = VideoQA(store=config.store, settings=config.settings)
        self.lock = threading.Lock()
        self.jobs = JobQueue(lambda: VideoQA(settings=self.vqa.settings))
        self.uploads = self.vqa.settings.store / "uploads"

    def close(self) -> None:
        self.jobs.close()
        self.vqa.close()


_bearer = HTTPBearer(auto_error=False, description="The token the server was started with (--token).")


def require_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """With --token, calls need `Authorization: Bearer TOKEN`; media links (<video>, <img>, EventSource,
    downloads) cannot send headers, so `?token=TOKEN` is accepted too."""
    expected = request.app.state.library.config.token
    if expected is None:
        return
    given = credentials.credentials if credentials else request.query_params.get("token")
    if not given:
        raise Unauthorized("This server needs a token: send 'Authorization: Bearer TOKEN' (or add ?token=TOKEN to a media link).")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("The token is wrong: use the one the server was started with (videoqa serve --token ...).")


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    library = Library(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        library.close()

    app = FastAPI(
        title="videoqa", version=__version__, lifespan=lifespan,
        description="Question answering over long videos: index once, then search and ask with timestamped moments. "
                    "Bodies are the same JSON documents as the CLI's --json.",
    )
    app.state.library = library

    @app.get("/api/health", tags=["server"])
    def health() -> dict:
        return {"status": "ok"}

    for module in (routes_videos, routes_ask):
        app.include_router(module.router, prefix="/api", dependencies=[Depends(require_token)])

    @app.exception_handler(VideoQAError)
    async def videoqa_error(request: Request, exc: VideoQAError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no {request.url.path}. The API is listed at /docs."
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
        return JSONResponse({"error": f"{where or 'request'}: {first.get('msg', 'invalid')}. See /docs for this call's parameters."},
                            status_code=422)

    static = resources.files("videoqa.server") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="page")
    return app
