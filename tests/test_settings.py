"""Settings: defaults < .env < VIDEOQA_* variables < explicit values; a bad value is one SettingsError line that
names the setting, where to set it and what it allows. And the layering the settings sit at the bottom of."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from videoqa.errors import SettingsError, VideoQAError
from videoqa.settings import DETECTORS, IndexSettings, ModelSettings, Settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No VIDEOQA_*/OPENAI_* variables from the caller, and a working directory without a .env."""
    import os

    for name in list(os.environ):
        if name.startswith(("VIDEOQA_", "OPENAI_")) and name != "VIDEOQA_TEST_VIDEOS":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_then_dotenv_then_environment_then_arguments(clean_env, monkeypatch):
    assert IndexSettings().sample_fps == 1.0 and ModelSettings().chat_model == "gpt-4o"
    (clean_env / ".env").write_text("VIDEOQA_SAMPLE_FPS=2\nVIDEOQA_CHAT_MODEL=from-dotenv\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\n")
    assert IndexSettings().sample_fps == 2.0
    models = ModelSettings()
    assert models.chat_model == "from-dotenv" and models.base_url == "http://127.0.0.1:9/v1" and models.chat_configured
    monkeypatch.setenv("VIDEOQA_SAMPLE_FPS", "3")
    monkeypatch.setenv("VIDEOQA_DETECTOR", "adaptive")
    monkeypatch.setenv("VIDEOQA_SPEECH_MODEL", "none")
    monkeypatch.setenv("VIDEOQA_STORE", str(clean_env / "store-from-env"))
    settings = Settings()
    assert (settings.index.sample_fps, settings.index.detector, settings.index.speech_model) == (3.0, "adaptive", None)
    assert settings.store == clean_env / "store-from-env"
    assert IndexSettings(sample_fps=0.5).sample_fps == 0.5  # an argument (a CLI flag) wins
    assert ModelSettings(base_url=None).base_url is None  # even an explicit None
    assert settings.with_store("~/x").store == Path("~/x").expanduser()


def test_replace_validates_and_keeps_the_rest(clean_env):
    settings = IndexSettings(detector="hash", tags=False)
    changed = settings.replace(sample_fps=4)
    assert (changed.detector, changed.tags, changed.sample_fps) == ("hash", False, 4.0)
    with pytest.raises(SettingsError, match="sample_fps = 0"):
        settings.replace(sample_fps=0)
    with pytest.raises(SettingsError, match="unknown setting 'sampel_fps'"):
        settings.replace(sampel_fps=2)
    with pytest.raises(Exception):  # frozen: a change goes through replace, which validates
        settings.sample_fps = 0


def test_the_fingerprint_keeps_the_keys_stores_were_written_with():
    # Each indexed video stores this dict; a new key or name would re-index every video in every store.
    assert list(IndexSettings().fingerprint()) == [
        "reader", "detector", "detector_threshold", "min_scene_len", "max_chunk_seconds", "split_seconds", "sample_fps", "keyframes_per_chunk",
        "thumbnail_width", "detect_width", "text_model", "tags", "clip_model", "ocr", "speech_model",
    ]


BAD = [
    (lambda: IndexSettings(sample_fps=0), ["sample_fps = 0", "--fps", "VIDEOQA_SAMPLE_FPS", "at most 60"]),
    (lambda: IndexSettings(max_chunk_seconds=-5), ["max_chunk_seconds = -5", "--max-chunk", "1 to 3600"]),
    (lambda: IndexSettings(max_chunk_seconds=1e9), ["max_chunk_seconds", "1 to 3600"]),
    (lambda: IndexSettings(detector="magic"), ["detector = 'magic'", "'content'", "'threshold'", "--detector"]),
    (lambda: IndexSettings(reader="ffmpeg"), ["reader = 'ffmpeg'", "'decord'", "'pyav'", "--reader"]),
    (lambda: ModelSettings(vlm="llava"), ["vlm = 'llava'", "openai:MODEL", "transformers:HF_ID", "VIDEOQA_VLM"]),
    (lambda: ModelSettings(vlm="openai:"), ["vlm = 'openai:'", "openai:MODEL"]),
    (lambda: ModelSettings(chat_model="gpt 4o"), ["chat_model = 'gpt 4o'", "VIDEOQA_CHAT_MODEL"]),
    (lambda: ModelSettings(base_url="localhost:8000"), ["base_url", "http://", "OPENAI_BASE_URL"]),
    (lambda: ModelSettings(image_detail="ultra"), ["image_detail", "'low'", "'high'"]),
    (lambda: ModelSettings(max_retries=-1), ["max_retries = -1", "0 to 10"]),
]


@pytest.mark.parametrize("make, expected", BAD, ids=[str(i) for i in range(len(BAD))])
def test_a_bad_value_is_one_line_naming_the_setting_and_what_it_allows(clean_env, make, expected):
    with pytest.raises(SettingsError) as caught:
        make()
    message = str(caught.value)
    assert isinstance(caught.value, VideoQAError) and "\n" not in message
    for part in expected:
        assert part in message, (part, message)


def test_a_bad_environment_variable_names_the_variable(clean_env, monkeypatch):
    monkeypatch.setenv("VIDEOQA_SAMPLE_FPS", "fast")
    with pytest.raises(SettingsError, match="VIDEOQA_SAMPLE_FPS"):
        Settings()
    monkeypatch.delenv("VIDEOQA_SAMPLE_FPS")
    (clean_env / "a-file").write_text("x")
    monkeypatch.setenv("VIDEOQA_STORE", str(clean_env / "a-file"))
    with pytest.raises(SettingsError, match="a directory, not a file"):
        Settings()


def test_the_detector_list_is_the_one_scene_detection_knows():
    from videoqa.memory.scenes import DETECTORS as IMPLEMENTED

    assert set(DETECTORS) == set(IMPLEMENTED)


FACE_AND_HEAVY = ["langgraph", "videoqa.api", "videoqa.cli", "videoqa.agent", "torch", "transformers",
                  "sentence_transformers", "openai", "faster_whisper", "onnxruntime"]


@pytest.mark.parametrize("package, also_absent", [("memory", ["langchain_core"]), ("tools", [])])
def test_memory_and_tools_load_neither_the_face_nor_langgraph_nor_torch(package, also_absent):
    # Every module of the package, in a fresh interpreter: the models load lazily, on first use. (The tools
    # may describe themselves with langchain_core; memory needs nothing of LangChain.)
    code = (
        f"import importlib, pkgutil, sys, videoqa.{package} as package\n"
        "for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "    importlib.import_module(module.name)\n"
        f"print(sorted(m for m in {FACE_AND_HEAVY + also_absent!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_public_names_still_import_from_the_top_and_resolve_lazily():
    code = (
        "import sys, videoqa\n"
        "assert 'videoqa.api' not in sys.modules and 'langgraph' not in sys.modules\n"
        "from videoqa import VideoQA, Settings, VideoQAError, Moment\n"
        "assert VideoQA.__module__ == 'videoqa.api' and set(videoqa.__all__) >= {'VideoQA', 'Answer', 'IndexSettings'}\n"
        "print('ok')\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "ok"


@pytest.mark.parametrize("folder", ["memory", "tools", "models", "agent"])
def test_no_lower_layer_imports_the_face(folder):
    for source in (REPO / folder).rglob("*.py"):
        text = source.read_text()
        for face in ("videoqa.api", "videoqa.cli", "from videoqa import "):
            assert face not in text, f"{source.relative_to(REPO)} imports {face}"
