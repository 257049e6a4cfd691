"""The ONNX networks on OpenVINO: the same readings as on ONNX Runtime, and safe to call from two threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from videoqa.models.cpu_inference import open_onnx
from videoqa.models.rapidocr_reader import RapidOcrReader

from . import text_cards

LINES = [("Velvet Harbor", (40, 60), 28), ("SCARLET WALRUS 1994", (60, 150), 22), ("Juniper Comet", (300, 270), 17)]


def _card() -> np.ndarray:
    image = Image.new("RGB", (640, 360), (30, 70, 40))
    draw = ImageDraw.Draw(image)
    for text, at, size in LINES:
        draw.text(at, text, font=text_cards._font(size), fill=(250, 240, 200))
    return np.asarray(image)


def test_openvino_reads_what_onnx_runtime_reads():
    card = _card()
    openvino, onnxruntime = RapidOcrReader(runtime="openvino"), RapidOcrReader(runtime="onnxruntime")
    on_openvino, on_onnxruntime = openvino.read(card), onnxruntime.read(card)
    assert (openvino.backend, onnxruntime.backend) == ("OpenVINO", "ONNX Runtime")
    assert [line.text for line in on_openvino] == [line.text for line in on_onnxruntime] == [text for text, _, _ in LINES]
    for a, b in zip(on_openvino, on_onnxruntime):
        assert np.allclose(a.box, b.box, atol=2 / 360) and abs(a.score - b.score) < 0.02


def test_two_threads_calling_one_model_get_their_own_results():
    """Ingest reads lines on the text thread and the reader's helper at once: each call must get the outputs
    of its own input, never the other thread's (an OpenVINO infer request serves one thread)."""
    import rapidocr_onnxruntime

    (recogniser,) = Path(rapidocr_onnxruntime.__file__).parent.glob("models/*_rec_infer.onnx")
    run, runtime = open_onnx(recogniser, "auto")
    assert runtime == "OpenVINO"
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-1, 1, (2, 3, 48, width)).astype(np.float32) for width in (320, 480, 640, 320, 800, 480)]
    expected = [run(x)[0] for x in inputs]
    calls, wrong = [], []

    def work(thread: int) -> None:
        for _ in range(3):
            for i, x in enumerate(inputs):
                calls.append((thread, i))
                if not np.array_equal(run(x)[0], expected[i]):
                    wrong.append((thread, i))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 2 * 3 * len(inputs) and wrong == []


def test_openvino_loads_without_its_converter_telemetry(tmp_path):
    """Importing `openvino` imports its model converter, which sends a usage event from a process forked off a
    thread of its own (a fork beside ingest's importing threads hung `videoqa index` for good) and writes a
    client id under ~/intel. Loaded through videoqa, no telemetry module is imported, no thread is started and
    nothing is written under HOME; the converter is still importable afterwards."""
    script = (
        "import sys, threading\n"
        "from videoqa.models.rapidocr_reader import RapidOcrReader\n"
        "reader = RapidOcrReader(); reader.loaded()\n"
        "import os; wrote = os.path.exists(os.path.expanduser('~/intel'))\n"
        "print(reader.backend, 'openvino_telemetry' in sys.modules, threading.active_count(), wrote)\n"
        "from openvino.tools.ovc import convert_model  # sends its event now: the user's choice\n"
        "print('converter importable')\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HOME": str(home)})
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    # the reader's helper thread is started lazily, so only the main thread runs after loading
    assert first == "OpenVINO False 1 False", result.stdout
    assert second == "converter importable"


def test_a_shape_that_comes_again_and_again_runs_on_a_copy_compiled_for_it_with_the_same_outputs():
    """Text detection runs on ingest's two gate sizes over and over: each gets a copy of the network compiled
    for its shape alone (faster), up to `fixed_shapes`; other shapes run on the copy that takes any shape.
    Every call's text probabilities are those of the network that takes any shape, to bfloat16's rounding,
    and a card reads the same, box for box, before and after its size gets a copy of its own."""
    import rapidocr_onnxruntime

    (detector,) = Path(rapidocr_onnxruntime.__file__).parent.glob("models/*_det_infer.onnx")
    any_shape, _ = open_onnx(detector, "openvino")
    fixed, _ = open_onnx(detector, "openvino", fixed_shapes=2)
    rng = np.random.default_rng(1)
    sizes = [(192, 320), (352, 640), (64, 640)]
    inputs = {size: [rng.uniform(-1, 1, (1, 3, *size)).astype(np.float32) for _ in range(2)] for size in sizes}
    for _ in range(3):
        for size in sizes:
            for x in inputs[size]:
                assert np.abs(fixed(x)[0] - any_shape(x)[0]).max() < 0.01, size
    assert fixed.fixed_shapes() == [((1, 3, 192, 320),), ((1, 3, 352, 640),)]
    assert any_shape.fixed_shapes() == []

    reader, card = RapidOcrReader(), _card()
    reads = [reader.read(card) for _ in range(4)]
    assert reader.loaded().text_det.infer.fixed_shapes() != []
    assert all(read == reads[0] for read in reads) and [line.text for line in reads[0]] == [text for text, _, _ in LINES]
