"""`videoqa remove VIDEO`: delete a video's index from the store (not the video file)."""

from __future__ import annotations

import argparse

from videoqa.api import VideoQA

from .output import emit_json


def add_commands(commands: argparse._SubParsersAction) -> None:
    remove = commands.add_parser("remove", help="delete videos' index from the store (the video files are kept)")
    remove.add_argument("videos", nargs="+", metavar="VIDEO", help="video id, path or file name")
    remove.set_defaults(run=run_remove)


def run_remove(vqa: VideoQA, args: argparse.Namespace) -> int:
    removed = [vqa.remove(video) for video in args.videos]
    if args.json:
        emit_json({"removed": removed})
    elif not args.quiet:
        for path in removed:
            print(f"removed {path}")
    return 0
