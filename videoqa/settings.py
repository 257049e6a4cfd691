"""Settings: one validated model, filled from defaults, then a `.env` file, then `VIDEOQA_*` environment
variables, then explicit arguments (the CLI's flags, the API's keywords).

    Settings            store directory                       VIDEOQA_STORE
    ├── index: IndexSettings   how a video is indexed         VIDEOQA_DETECTOR, VIDEOQA_SAMPLE_FPS, ...
    └── models: ModelSettings  chat and vision models         VIDEOQA_CHAT_MODEL, VIDEOQA_VLM, OPENAI_API_KEY, ...

Every field of a group is read from `VIDEOQA_<FIELD>` (the OpenAI key and address also from the SDK's own
OPENAI_API_KEY / OPENAI_BASE_URL). A value a setting cannot take raises `SettingsError` with one line naming
the setting, where it is set and the values it allows, whichever of the sources it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from platformdirs import user_cache_dir
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from typing_extensions import Self

from videoqa.errors import SettingsError

ENV_PREFIX = "VIDEOQA_"
STORE_ENV = "VIDEOQA_STORE"

Reader = Literal["auto", "decord", "pyav"]
Detector = Literal["content", "adaptive", "hash", "histogram", "threshold"]
READERS: tuple[str, ...] = get_args(Reader)
DETECTORS: tuple[str, ...] = get_args(Detector)
VLM_SPECS = "none, openai:MODEL or transformers:HF_ID (empty: the chat server's model)"


def default_store_dir() -> Path:
    """The store directory when none is given: $VIDEOQA_STORE if set, else the user's cache dir."""
    return Settings().store


def _optional_name(value: object) -> object:
    """"" and "none" (any case) switch an optional model off, so an environment variable can say so too."""
    if isinstance(value, str) and value.strip().lower() in ("", "none"):
        return None
    return value.strip() if isinstance(value, str) else value


class _Group(BaseSettings):
    """Shared behaviour of the settings groups: read the environment and `.env`, refuse bad values in one line,
    and stay immutable (change one with `replace`, which validates again)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore",
        frozen=True, populate_by_name=True,
    )
    # field -> CLI flag that sets it, named in error messages
    FLAGS: ClassVar[dict[str, str]] = {}

    def __init__(self, **values: Any) -> None:
        # The environment may hold other programs' VIDEOQA_* variables, but a misspelt argument must not pass
        # silently (`_env_file` and the like are pydantic-settings' own options).
        unknown = sorted(name for name in values if name not in type(self).model_fields and not name.startswith("_"))
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r}; known: {', '.join(type(self).model_fields)}")
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_one_line(type(self), exc)) from exc

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes` applied and validated (the environment is not read again)."""
        return type(self)(**{name: getattr(self, name) for name in type(self).model_fields} | changes)


def _one_line(group: type[_Group], exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = "?"
    for part in map(str, error["loc"]):  # descend into a nested group given as a mapping
        field = part
        nested = group.model_fields.get(part)
        if nested is None or not (isinstance(nested.annotation, type) and issubclass(nested.annotation, _Group)):
            break
        group = nested.annotation
    for name, info in group.model_fields.items():  # an environment alias (OPENAI_API_KEY) back to its field
        if field == name or (isinstance(info.validation_alias, AliasChoices) and field in info.validation_alias.choices):
            field = name
            break
    sources = [group.FLAGS[field]] if field in group.FLAGS else []
    info = group.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        sources += [str(choice) for choice in info.validation_alias.choices if choice != field]
    else:
        sources.append(f"{ENV_PREFIX}{field.upper()}")
    reason = str(error["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
    allowed = f" Allowed: {info.description}." if info is not None and info.description else ""
    given = error.get("input")
    return f"{field} = {str(given) if isinstance(given, Path) else given!r} is not allowed: it should be {reason}.{allowed} Set it with {' or '.join(sources)}."


class IndexSettings(_Group):
    """How a video is indexed. Stored with each video so a later run can tell what it was built with."""

    FLAGS: ClassVar[dict[str, str]] = {
        "reader": "--reader", "detector": "--detector", "detector_threshold": "--threshold",
        "max_chunk_seconds": "--max-chunk", "sample_fps": "--fps", "clip_model": "--clip", "speech_model": "--speech-model",
        "tags": "--no-tags", "ocr": "--no-ocr", "split_seconds": "--split",
    }

    reader: Reader = "auto"  # auto: decord, PyAV where decord cannot open the file
    detector: Detector = "content"  # a PySceneDetect detector
    detector_threshold: float | None = Field(None, ge=0, le=255, description="0 to 255, or unset for the detector's own default")
    min_scene_len: int = Field(15, ge=1, le=100_000, description="1 to 100000 frames")
    max_chunk_seconds: float = Field(30.0, ge=1, le=3600, description="1 to 3600 seconds (longer scenes are split into chunks this long)")
    split_seconds: float = Field(1200.0, ge=0, le=86_400, description="0 (never) to 86400 seconds (longer videos are cut at "
                                 "keyframes into parts computed at once)")
    sample_fps: float = Field(1.0, gt=0, le=60, description="more than 0 and at most 60 frames a second")
    keyframes_per_chunk: int = Field(3, ge=1, le=32, description="1 to 32")
    thumbnail_width: int = Field(320, ge=32, le=3840, description="32 to 3840 pixels")
    detect_width: int = Field(160, ge=32, le=3840, description="32 to 3840 pixels (scene detection runs on frames this wide)")
    text_model: str = Field("all-MiniLM-L6-v2", min_length=1, description="all-MiniLM-L6-v2 (packaged), or any sentence-transformers name or path")
    tags: bool = True  # visual tags and features (EfficientNet-Lite0, packaged)
    clip_model: str | None = Field(None, description="a Hugging Face CLIP id, e.g. openai/clip-vit-base-patch32, or none")
    ocr: bool = True  # on-screen text on keyframes (RapidOCR, packaged)
    speech_model: str | None = Field("whisper-base-packaged", description="a faster-whisper model name, or none for no transcript")

    @field_validator("clip_model", "speech_model", mode="before")
    @classmethod
    def _none_means_off(cls, value: object) -> object:
        return _optional_name(value)

    def fingerprint(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in type(self).model_fields}


class ModelSettings(_Group):
    """Chat and vision models. A chat model counts as configured when an API key or a server address is set."""

    chat_model: str = "gpt-4o"
    base_url: str | None = Field(None, validation_alias=AliasChoices("base_url", "VIDEOQA_BASE_URL", "OPENAI_BASE_URL"))
    api_key: str | None = Field(None, validation_alias=AliasChoices("api_key", "VIDEOQA_API_KEY", "OPENAI_API_KEY"))
    # "" = the chat server's model when one is configured; "none"; "openai:MODEL"; "transformers:HF_ID"
    vlm: str = ""
    timeout: float = Field(60.0, gt=0, le=3600, description="more than 0 and at most 3600 seconds")
    max_retries: int = Field(2, ge=0, le=10, description="0 to 10")
    image_size: int = Field(512, ge=32, le=4096, description="32 to 4096 pixels (the long side of frames sent to a VLM)")
    image_detail: Literal["low", "high", "auto"] = "low"

    @field_validator("base_url", "api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("chat_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not value or any(c.isspace() for c in value):
            raise ValueError("a model name the server serves, without spaces")
        return value

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("an address starting with http:// or https://")
        return value

    @field_validator("vlm")
    @classmethod
    def _vlm_spec(cls, value: str) -> str:
        spec = value.strip()
        kind, _, name = spec.partition(":")
        if spec.lower() in ("", "none") or (kind in ("openai", "transformers") and name.strip()):
            return spec
        raise ValueError(f"one of {VLM_SPECS}")

    @property
    def chat_configured(self) -> bool:
        return bool(self.api_key or self.base_url)


class Settings(_Group):
    store: Path = Field(default_factory=lambda: Path(user_cache_dir("videoqa")) / "store")
    index: IndexSettings = Field(default_factory=IndexSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)

    FLAGS: ClassVar[dict[str, str]] = {"store": "--store"}

    @field_validator("store", mode="after")
    @classmethod
    def _directory(cls, value: Path) -> Path:
        value = value.expanduser()
        if value.exists() and not value.is_dir():
            raise ValueError("a directory, not a file (give another --store, or remove the file)")
        return value

    def with_store(self, store: str | Path | None) -> "Settings":
        return self if store is None else self.replace(store=Path(store))
