"""The HTTP face of videoqa: a FastAPI app (JSON API, server-sent events, the web page) run by uvicorn."""

from .app import ServerConfig, create_app

__all__ = ["ServerConfig", "create_app"]
