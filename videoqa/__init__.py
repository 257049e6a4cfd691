"""videoqa: index long videos once, then search and ask about them with timestamped evidence."""

from videoqa.api import VideoQA
from videoqa.errors import VideoQAError
from videoqa.memory.search import Moment
from videoqa.results import IndexedVideo, Keyframe, Scene
from videoqa.settings import IndexSettings, Settings

__all__ = ["IndexSettings", "IndexedVideo", "Keyframe", "Moment", "Scene", "Settings", "VideoQA", "VideoQAError"]
__version__ = "0.1.0"
