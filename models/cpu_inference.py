"""Running an ONNX model on the CPU: with OpenVINO when it is installed, else with ONNX Runtime.

Measured here (2 cores with AVX-512 BF16), per call on one thread: text detection on a 320-px frame 4.3 ms
against 7.2 ms, reading 6 lines 25 ms against 72 ms, in bfloat16, which OpenVINO uses where the CPU has it;
tagging, kept in float32, 5.6 ms a frame against 9.2 ms.

Ingest calls a model from more than one thread at once (the text thread and the reader's helper); each
calling thread gets its own copy of the model, compiled for one thread, so a call uses one core, as ONNX
Runtime does with one intra-op thread, and runs on the thread that makes it."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# inputs (one array per model input, in order) -> outputs (one array per model output, in order)
OnnxModel = Callable[..., list[np.ndarray]]


def open_onnx(path: Path | str, runtime: str = "auto", float32: bool = False, fixed_shapes: int = 0) -> tuple[OnnxModel, str]:
    """The model at `path` as a callable, and the name of the runtime that runs it. `runtime`: "auto"
    (OpenVINO when installed), "openvino" or "onnxruntime". `float32`: never in bfloat16, for outputs that
    are kept as numbers (the tagger's probabilities moved by up to 0.06 in bfloat16; OCR's readings did not
    change). `fixed_shapes`: with OpenVINO, up to this many input shapes that come again and again (see
    `REPEATED`) get a copy of the model compiled for that shape alone: text detection on a 320-px frame
    takes 2.7 ms against 3.8 ms, on a 640-px frame 10.5 against 14.9 ms, with the same outputs, for ~25 MB
    each."""
    if runtime in ("auto", "openvino"):
        try:
            return _openvino(Path(path), float32, fixed_shapes), "OpenVINO"
        except ImportError:
            if runtime == "openvino":
                raise
        except RuntimeError as exc:  # a model OpenVINO cannot compile still runs on ONNX Runtime
            if runtime == "openvino":
                raise
            log.warning("running %s with ONNX Runtime: OpenVINO cannot compile it (%s)", Path(path).name, exc)
    return _onnxruntime(Path(path)), "ONNX Runtime"


_core = None
_core_lock = threading.Lock()


REPEATED = 3  # calls with one input shape after which it counts as one that comes again and again


def _openvino(path: Path, float32: bool, fixed_shapes: int) -> OnnxModel:
    global _core
    with _core_lock:
        if _core is None:
            _core = _import_openvino().Core()
        model = _core.read_model(str(path))
    config = {
        # One thread, one stream: the call then runs on the calling thread, as with ONNX Runtime.
        "NUM_STREAMS": 1, "INFERENCE_NUM_THREADS": 1, "ENABLE_CPU_PINNING": False,
        "CPU_RUNTIME_CACHE_CAPACITY": 0,  # per-input-shape caches: 430 MB over 100 line widths, no faster
        **({"INFERENCE_PRECISION_HINT": "f32"} if float32 else {}),
    }
    compiled = threading.local()  # a compiled model per calling thread: calls from two threads run side by side

    def request_for(shapes: tuple[tuple[int, ...], ...]):
        """This thread's request for inputs of `shapes`: its own compiled copy where the shapes come again
        and again, else the copy that takes any shape."""
        if fixed_shapes:
            fixed = compiled.__dict__.setdefault("fixed", {})
            if shapes not in fixed and len(fixed) < fixed_shapes:  # counted only while a copy may still be made
                calls = compiled.__dict__.setdefault("calls", {})
                calls[shapes] = calls.get(shapes, 0) + 1
                if calls[shapes] >= REPEATED:
                    with _core_lock:
                        static = model.clone()
                        static.reshape({port: list(shape) for port, shape in zip(static.inputs, shapes)})
                        fixed[shapes] = _core.compile_model(static, "CPU", config).create_infer_request()
            if shapes in fixed:
                return fixed[shapes]
        request = getattr(compiled, "request", None)
        if request is None:
            with _core_lock:
                request = compiled.request = _core.compile_model(model, "CPU", config).create_infer_request()
        return request

    def run(*inputs: np.ndarray) -> list[np.ndarray]:
        outputs = request_for(tuple(i.shape for i in inputs)).infer(dict(enumerate(inputs)))  # copies out: the next call reuses the buffers
        return [outputs[i] for i in range(len(outputs))]

    run.fixed_shapes = lambda: sorted(compiled.__dict__.get("fixed", {}))  # type: ignore[attr-defined]  (this thread's)
    return run


def _import_openvino():
    """`openvino`, without its model converter (`openvino.tools.ovc`), which nothing here uses and which, on
    import, sends a usage event from a process forked off a helper thread, and writes a client id under
    ~/intel. Forked while ingest's other threads were importing, the process hung for good (seen on
    `videoqa index` of the TED clip). The package skips the converter when it cannot be imported; it is
    importable again afterwards, for code that wants it."""
    if "openvino" in sys.modules:
        return sys.modules["openvino"]
    converter = "openvino.tools.ovc"
    blocked = converter not in sys.modules
    if blocked:
        sys.modules[converter] = None  # type: ignore[assignment]  (makes its import raise ImportError)
    try:
        import openvino
    finally:
        if blocked and sys.modules.get(converter, 0) is None:
            del sys.modules[converter]
    return openvino


def _onnxruntime(path: Path) -> OnnxModel:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # ingest runs models beside decoding: a second thread mostly spins
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # the arena keeps the peak of every input size it has seen
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(*inputs: np.ndarray) -> list[np.ndarray]:
        return session.run(None, dict(zip(names, inputs)))

    return run
