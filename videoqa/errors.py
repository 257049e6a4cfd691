"""The one exception tree of videoqa. Every message is written for the person who reads it:
what is wrong, then what to do.

    VideoQAError
    ├── SettingsError            a setting (flag, VIDEOQA_* variable, .env, argument) has a value it cannot take
    ├── VideoInputError          the file given cannot be indexed
    │   ├── VideoNotFoundError   missing path, or a directory
    │   └── UnreadableVideoError empty, truncated, not a video, no video stream
    ├── StoreError               the store on disk cannot be used as asked
    │   ├── VideoNotIndexedError the video is not in the store
    │   └── IncompatibleStoreError written by another embedder / schema
    ├── QueryError               an empty or malformed question or query
    ├── ModelError               a model backend failed
    │   ├── ModelUnavailableError not installed, not configured, or cannot load
    │   └── ModelServerError     the server answered badly (down, 401, 404, 5xx, bad JSON)
    ├── BudgetExceededError      a per-question budget (frames, tokens, seconds, money) ran out
    ├── ClusterError             Ray is not installed, or its cluster cannot be reached
    └── DatasetError             an evaluation dataset cannot be read
"""

from __future__ import annotations


class VideoQAError(Exception):
    """Base of every error videoqa raises on purpose; its message is shown to the user as one line."""


class SettingsError(VideoQAError):
    """Configuration: the message names the setting, where it is set and the values it allows."""


class VideoInputError(VideoQAError):
    pass


class VideoNotFoundError(VideoInputError):
    pass


class UnreadableVideoError(VideoInputError):
    pass


class StoreError(VideoQAError):
    pass


class VideoNotIndexedError(StoreError):
    pass


class IncompatibleStoreError(StoreError):
    pass


class QueryError(VideoQAError):
    pass


class ModelError(VideoQAError):
    pass


class ModelUnavailableError(ModelError):
    pass


class ModelServerError(ModelError):
    pass


class BudgetExceededError(VideoQAError):
    def __init__(self, message: str, resource: str = "") -> None:
        super().__init__(message)
        self.resource = resource


class ClusterError(VideoQAError):
    pass


class DatasetError(VideoQAError):
    pass
