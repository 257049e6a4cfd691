"""`videoqa serve`: the HTTP API and the web page (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from videoqa.api import VideoQA
from videoqa.errors import VideoQAError

from .output import error

TOKEN_ENV = "VIDEOQA_TOKEN"


def add_commands(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="the HTTP API and the web page (http://127.0.0.1:8000/)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    serve.add_argument("--media-root", action="append", default=[], metavar="DIR",
                       help="a folder whose videos clients may index by path (repeatable); uploads work without one")
    serve.add_argument("--token", default=os.environ.get(TOKEN_ENV),
                       help=f"require this token on every API call (default: ${TOKEN_ENV}; none: open to anyone who can connect)")
    serve.add_argument("--max-upload-mb", type=int, default=2048, help="largest upload accepted (default 2048 MB)")
    serve.set_defaults(run=run_serve)


def run_serve(vqa: VideoQA, args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from videoqa.server import ServerConfig, create_app
    except ImportError as exc:
        raise VideoQAError(f"The web server needs the serve extra ({exc.name} is missing): pip install 'videoqa[serve]'") from exc
    roots = []
    for folder in args.media_root:
        root = Path(folder).expanduser().resolve()
        if not root.is_dir():
            raise VideoQAError(f"The media root {folder} is not a folder. Give an existing folder of videos.")
        roots.append(root)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.token:
        error(f"warning: listening on {args.host} without --token: anyone who can reach this port can use the API.")
    config = ServerConfig(media_roots=tuple(roots), token=args.token, max_upload_bytes=args.max_upload_mb * 1024 * 1024,
                          settings=vqa.settings)
    uvicorn.Server(uvicorn.Config(create_app(config), host=args.host, port=args.port,
                                  log_level="debug" if args.debug else "info")).run()
    return 0

