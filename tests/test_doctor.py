"""`videoqa doctor`, and the transformers VLM backend's failure when its weights are not on the machine."""

from __future__ import annotations

import json

import numpy as np
import pytest

from videoqa.errors import ModelUnavailableError
from videoqa.models.base import TimedFrame
from videoqa.models.transformers_vlm import TransformersVLM

from .conftest import run_cli


def test_doctor_reports_each_backend_in_one_line(tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDEOQA_VLM"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli("doctor", "--json", store=tmp_path)
    assert result.returncode == 0, result.stderr
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["text embedder"]["ok"] and "384-d" in checks["text embedder"]["detail"]
    assert "ONNX Runtime" in checks["text embedder"]["detail"]  # the packaged MiniLM runs without PyTorch
    assert checks["speech"]["ok"] and "SHA-256 verified" in checks["speech"]["detail"]
    # The tagger and OCR networks run on OpenVINO, a dependency: falling back to ONNX Runtime would be 2-3x slower.
    assert checks["visual tagger"]["ok"] and "on OpenVINO" in checks["visual tagger"]["detail"]
    assert checks["OCR"]["ok"] and "on OpenVINO" in checks["OCR"]["detail"]
    assert not checks["chat model"]["ok"] and "OPENAI_API_KEY" in checks["chat model"]["detail"]
    assert checks["local chat model (optional)"]["ok"]  # CI installs the local-llm extra
    text = run_cli("doctor", store=tmp_path).stdout
    assert "next:" in text and all("\n" not in c["detail"] for c in checks.values())


def test_a_local_vlm_that_is_not_cached_fails_with_one_clear_line(monkeypatch):
    # No vision-language model ships in any package and the hub is unreachable here: the real loading
    # code runs and must end in one error that says what to do.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vlm = TransformersVLM("HuggingFaceTB/SmolVLM-256M-Instruct")
    with pytest.raises(ModelUnavailableError) as caught:
        vlm.describe("What is shown?", [TimedFrame(0.0, np.zeros((64, 64, 3), np.uint8))])
    message = str(caught.value)
    assert "SmolVLM-256M-Instruct" in message and "VIDEOQA_VLM" in message and "\n" not in message
