"""`videoqa verify`: check the store and repair what is derived from it (vector caches, thumbnails)."""

from __future__ import annotations

import argparse

from videoqa.api import VideoQA

from .output import emit_json


def add_commands(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser(
        "verify", help="check the store (database, vector caches, thumbnails) and repair caches and thumbnails",
        description="Exit status: 0 when the store is whole (after repairs), 1 when damage is left that cannot be repaired.",
    )
    verify.set_defaults(run=run_verify)


def run_verify(vqa: VideoQA, args: argparse.Namespace) -> int:
    report = vqa.verify()
    if args.json:
        emit_json(report.to_dict())
    else:
        for finding in report.findings:
            print(finding.line())
        checked = ", ".join(f"{count} {what}" for what, count in report.checked.items())
        print(f"{'DAMAGED' if report.damaged else 'ok'}: checked {checked}")
    return 1 if report.damaged else 0
