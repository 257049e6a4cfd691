"""videoqa: index long videos once, then search and ask about them with timestamped evidence."""

from videoqa.api import VideoQA
from videoqa.errors import VideoQAError
from videoqa.memory.search import Moment
from videoqa.results import Answer, IndexedVideo, Scene, ToolEvent
from videoqa.settings import IndexSettings, ModelSettings, Settings

__all__ = ["Answer", "IndexSettings", "IndexedVideo", "ModelSettings", "Moment", "Scene", "Settings", "ToolEvent", "VideoQA", "VideoQAError"]
__version__ = "0.1.0"
