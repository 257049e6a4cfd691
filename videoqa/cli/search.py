"""`videoqa search [VIDEO] QUERY`: ranked moments, no language model needed."""

from __future__ import annotations

import argparse

from videoqa.api import VideoQA
from videoqa.documents import search_document
from videoqa.wording import clock

from .output import emit_json


def add_commands(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser("search", help="find moments matching a query (one video, or --all)")
    search.add_argument("terms", nargs="+", metavar="[VIDEO] QUERY", help="a video (id, path or file name) and the query; the query alone searches the whole store")
    search.add_argument("-k", type=int, default=5, help="number of moments (default 5)")
    search.add_argument("--all", action="store_true", help="search every indexed video")
    search.set_defaults(run=run_search)


def run_search(vqa: VideoQA, args: argparse.Namespace) -> int:
    if args.all or len(args.terms) == 1:
        video, query = None, " ".join(args.terms)
    else:
        video, query = args.terms[0], " ".join(args.terms[1:])
    moments = vqa.search(video, query, args.k)
    if args.json:
        emit_json(search_document(query, moments))
        return 0
    if not moments:
        print("No moments found.")
    names = {v.id: v.path.rsplit("/", 1)[-1] for v in vqa.videos()}
    for m in moments:
        where = "" if video else f"{names.get(m.video, m.video)}  "
        print(f"{where}{clock(m.start)}–{clock(m.end)}  score {m.score:.2f}  [{', '.join(m.sources)}]  {m.text[:80]}")
    return 0
