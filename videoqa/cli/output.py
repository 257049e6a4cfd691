"""Shared output helpers: JSON documents on stdout, times as m:ss, one-line errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def error(message: str) -> None:
    print(f"videoqa: {message}", file=sys.stderr)
