"""The README's first command, run as a newcomer runs it: in a fresh virtual environment (no system site
packages), with fresh pip and videoqa caches, from the checkout. It must compile nothing, answer with a
moment, write progress as plain log lines (stderr is not a terminal here), and finish in about two minutes."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 120.0
# The goal is 120 s on an idle 2-core machine; the bound leaves room for a busy one and still catches the
# regression this test exists for (building llama.cpp alone took ~300 s).
LIMIT_SECONDS = 2 * GOAL_SECONDS


def readme_first_command() -> str:
    quick_start = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", quick_start, re.S).group(1)
    return block.strip().splitlines()[0]


def test_readme_first_command_in_a_fresh_environment(tmp_path):
    command = readme_first_command()
    assert "local-llm" not in command and "CMAKE_ARGS" not in command  # the first command builds nothing
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDEOQA_CHAT_MODEL", "VIDEOQA_STORE", "PYTHONPATH", "PIP_CACHE_DIR")}
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}:{env['PATH']}", XDG_CACHE_HOME=str(tmp_path / "cache"),
               PIP_CACHE_DIR=str(tmp_path / "pip-cache"), HOME=str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"README first command: {seconds:.1f} s wall, {cpu:.1f} CPU-s (goal {GOAL_SECONDS:.0f} s): {command}")
    assert result.returncode == 0, result.stderr[-3000:]

    (tmp_path / "first-command.log").write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    # Pure-Python source packages (srt, rouge-score) build into py3-none-any wheels; anything else was compiled.
    built = re.findall(r"Created wheel for (\S+): filename=(\S+)", result.stdout)
    compiled = [name for name, wheel in built if not wheel.endswith("-none-any.whl")]
    assert built and not compiled, f"the first command compiled {compiled}"
    assert re.search(r"^\s+0:\d\d–0:\d\d ", result.stdout, re.M), result.stdout[-2000:]  # a moment with its times
    progress = [line for line in result.stderr.splitlines() if line.startswith("indexing trailer_bbb.mp4")]
    assert progress and "\r" not in result.stderr and len(progress) <= 30, result.stderr[-2000:]
    assert seconds <= LIMIT_SECONDS, f"the first command took {seconds:.0f} s (goal {GOAL_SECONDS:.0f} s)"
