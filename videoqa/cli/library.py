"""`videoqa index --workers N` / `--ray ADDRESS`: one progress bar over the library, failures one line each,
a summary table at the end."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
import sys
from pathlib import Path

from tqdm import tqdm

from videoqa.api import VideoQA
from videoqa.errors import ClusterError
from videoqa.library import LibraryProgress, VideoReport
from videoqa.wording import clock

from .output import emit_json, error


class LibraryBar:
    """Progress over the library on stderr: videos done, hours done of hours to do, realtime factor. A tqdm
    bar over hours of video on a terminal; elsewhere (a log, CI) a line each time a video is done."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.interactive = sys.stderr.isatty()
        self.logged = -1

    def __call__(self, state: LibraryProgress) -> None:
        if state.message:
            (self.bar.write if self.bar else print)(f"videoqa: {state.message}", file=sys.stderr)
        failed = f" ({state.failed} failed)" if state.failed else ""
        line = (f"videos {state.videos_done}/{state.videos}{failed}  {state.video_seconds_done / 3600:.2f}/"
                f"{state.video_seconds / 3600:.2f} h  ({state.realtime_factor:.0f}x realtime)")
        if not self.interactive:
            if state.videos_done + state.failed != self.logged:
                self.logged = state.videos_done + state.failed
                print(f"indexing library  {line}", file=sys.stderr, flush=True)
            return
        if self.bar is None:
            self.bar = tqdm(total=round(state.video_seconds / 3600, 3), file=sys.stderr, mininterval=0.25,
                            dynamic_ncols=True, bar_format="indexing library {bar:24} {desc}")
        self.bar.n = round(state.video_seconds_done / 3600, 3)
        self.bar.set_description_str(line, refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_library(vqa: VideoQA, args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise ClusterError(f"--workers {args.workers}: give at least 1 (or leave it out to index here, without Ray).")
    address = None
    if args.ray is not None:
        address = args.ray if args.ray != "env" else os.environ.get("RAY_ADDRESS", "auto")
    bar = None if args.json or args.quiet else LibraryBar()
    try:
        reports = vqa.index_library(args.paths, args.workers, address, bar, subtitles=False if args.no_subtitles else None)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        emit_json({"videos": [asdict(report) for report in reports]})
    else:
        if args.quiet:
            for report in reports:
                if report.status == "failed":
                    error(report.error if report.path in report.error else f"{report.path}: {report.error}")
        print_summary(reports)
    return 1 if any(r.status == "failed" for r in reports) else 0


def print_summary(reports: list[VideoReport]) -> None:
    name_width = max([len(Path(r.path).name) for r in reports] + [5])
    print(f"{'video':<{name_width}}  {'status':<15}  {'length':>8}  {'units':>5}  {'scenes':>6}  {'work s':>7}  {'x realtime':>10}")
    for r in reports:
        speed = f"{r.duration / r.seconds:.1f}" if r.seconds > 0 else "-"
        print(f"{Path(r.path).name:<{name_width}}  {r.status:<15}  {clock(r.duration):>8}  {r.units:>5}  {r.scenes:>6}  "
              f"{r.seconds:>7.1f}  {speed:>10}")
    done = [r for r in reports if r.status != "failed"]
    print(f"{len(done)} of {len(reports)} videos indexed, {sum(r.duration for r in done) / 3600:.2f} h of video")
