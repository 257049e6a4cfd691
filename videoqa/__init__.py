"""videoqa: index long videos once, then search and ask about them with timestamped evidence.

The public names load on first use (PEP 562), so `import videoqa.memory` or `import videoqa.settings` does not
pull in the API, the agent and LangGraph; `from videoqa import VideoQA` works as before."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "VideoQA": "videoqa.api",
    "VideoQAError": "videoqa.errors",
    "Moment": "videoqa.memory.search",
    "Answer": "videoqa.results",
    "IndexedVideo": "videoqa.results",
    "Scene": "videoqa.results",
    "ToolEvent": "videoqa.results",
    "IndexSettings": "videoqa.settings",
    "ModelSettings": "videoqa.settings",
    "Settings": "videoqa.settings",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names resolve lazily below
    from videoqa.api import VideoQA
    from videoqa.errors import VideoQAError
    from videoqa.memory.search import Moment
    from videoqa.results import Answer, IndexedVideo, Scene, ToolEvent
    from videoqa.settings import IndexSettings, ModelSettings, Settings


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'videoqa' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
