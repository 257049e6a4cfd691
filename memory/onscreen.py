"""On-screen text: seen cheaply on every gate frame, read only where it is new.

Every GATE_STEP seconds the decoding pass hands a frame to `TextTracker.feed` (through `TextThread`, which
runs the tracker beside decoding). A frame that looks like the previous one (few pixels changed) keeps every
open line on screen. Otherwise text *detection* (no reading) runs on a small copy, and its boxes are matched
against the open lines, after undoing a vertical scroll measured by phase correlation (a credits roll moves
every line the same way). Only when a box matches no open line, or an open line has no box, does detection
run again on a larger copy, and only its boxes that match no open line are *recognised*. Every SWEEP_EVERY
gate frames the larger copy is searched instead of the small one, for small low-contrast captions the small
copy cannot see, and halfway between two sweeps a copy GLANCE_WIDTH wide (on generated cards, seeds 31-33:
149 of 150 found, against 148 without it, for about 1% of bbb.mp4's ingest). A line found on the larger
copy starts at the earliest of the last LOOK_BACK gate frames on which it reads the same, a line no box
matches goes on while its box still reads the same, and a line lost on one gate frame goes on when it is
read again. Once a roll scrolls (its shift confirmed by the boxes where phase correlation is weak), each
open line is checked by its pixels against the previous frame moved by the shift, and only the band the
roll brought in is searched; its new lines are read on a thread of their own while the next frame is
searched. So a card is read once, a roll once per line, and each line's
span is the first to the last gate frame it was seen on. Where nothing scrolled, a box that matches a line's
place (or lies inside one) but whose pixels no longer correlate with the previous gate frame's is new text:
the next card drawn in the same place, or a tagline appearing inside a logo's box.

Resume: lines open at the resume point are rebuilt from the OCR rows already in the store (their end is the
last gate frame they were seen on); the first frame after resume is read in full and matched to them by words.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from .readers import DecodedFrame
from .store import NewText, TextRow
from .textmatch import same_words, squash

GATE_STEP = 0.5  # seconds between gate frames (the issue asks for at least 2 per second)
GATE_WIDTH = 320  # text detection runs on frames this wide (~8 ms each)
READ_WIDTH = 640  # recognition crops come from frames this wide
GLANCE_WIDTH = 480  # halfway between sweeps the small copy is this wide: faint captions of 1-2 s fall between sweeps
CHANGED_PIXEL = 24  # grey levels: a pixel that moved this much changed
CHANGED_SHARE = 0.002  # below this share of changed pixels the frame shows what the previous one showed
MATCH_IOU = 0.4
COVERED = 0.6  # a box this much inside open lines' boxes shows text already read (detection split it differently)
MIN_HEIGHT = 8 / 360  # text lower than 8 px in a 640x360 frame reads as noise: not read
BACKLOG = 24  # gate frames waiting for the text thread (~1.4 MB each at 720p); decoding waits beyond this
GROWN = 1.25  # a box this much wider than its line's is new text (a fade-in or a title being typed): read it
SAME_LINE = 80  # RapidFuzz ratio (0-100) of squashed texts above which two reads are one line
STILL = 0.002  # a vertical shift below this (fraction of the height) is no scroll
SAME_LOOK = 0.5  # normalised correlation of a box's pixels with the previous gate frame's below which it was redrawn
FLAT = 4.0  # grey levels of spread below which a box's area is plain (no text)
ROLL_SPEED = 0.2  # a roll whose shift changed by less than this share of it still rolls at its speed
ROLL_CHANGED = 0.1  # share of a roll's lines that may look changed (they end) before the frame is searched whole
ROLL_MARGIN = 2.0  # line heights above the band a roll brought in that are searched too (a line cut at the edge)
# Gate frames: every 2 s the larger copy is searched even when the small one saw nothing new. Every 1 s found
# all 150 cards of seeds 31-33 (the glance 149, neither 148), and more of the faint captions shown 1-2 s,
# for ~7% more CPU on bbb.mp4 (3.5 CPU-s): a cost the 20x target leaves no room for.
SWEEP_EVERY = 4
LOOK_BACK = 6  # gate frames (3 s, the longest card) over which a new line's start is looked for


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame


@dataclass
class Line:
    text: str  # "" for a box that did not read as text: tracked so it is not read again, never stored
    box: Box | None  # where it was last seen; None for a line rebuilt on resume
    first: float
    last: float
    text_id: int | None = None  # the row's id once committed (set by the worker)
    row: NewText | None = None  # the row, once handed to a checkpoint
    stored_end: float = -1.0  # the end the store has (or will have once the pending checkpoint commits)


@dataclass
class TextRows:
    """What a checkpoint writes for on-screen text: new rows, and rows (by line) whose end moved."""

    new: list[NewText] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)  # the lines of `new`, in order (the worker sets their ids)
    extend: list[tuple[Line, float]] = field(default_factory=list)


class TextTracker:
    def __init__(self, reader, resumed: tuple[tuple[int, float, float, str], ...] = ()) -> None:
        """`resumed`: the rows of lines on screen where a resumed run starts (see `lines_at`); they are
        matched by their words on the first frame read, and lengthened rather than written again."""
        self.reader = reader
        self.open: list[Line] = [
            Line(text, None, start, end, text_id=row_id, row=NewText(TextRow(start, end, "ocr", text)), stored_end=end)
            for row_id, start, end, text in resumed
        ]
        self.done: list[Line] = []  # closed, but maybe not yet (fully) written
        self.previous: np.ndarray | None = None
        self.gates: list[float] = []  # recent gate frame times
        self._pair: tuple[np.ndarray, np.ndarray] | None = None  # (previous, current) grey gate frames, when nothing scrolled
        self.recent: list[DecodedFrame] = []  # the last LOOK_BACK gate frames, where a new line's start is looked for
        self.committed_to = -np.inf  # the last checkpoint's resume time: rows before it are written
        self.scroll = 0.0  # the last vertical shift found between two gate frames (a roll keeps its speed)
        self.rolling: float | None = None  # the last gate frame on which the picture scrolled
        self._reading: tuple[Future, float, list[Box]] | None = None  # a roll frame's reads: lines, time, boxes
        self._reads: ThreadPoolExecutor | None = None

    # -- the gate -------------------------------------------------------------------------------
    def feed(self, frame: DecodedFrame) -> None:
        t = frame.time
        small = frame.rgb(GATE_WIDTH)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        previous, self.previous = self.previous, grey
        self.gates.append(t)
        if previous is not None and previous.shape == grey.shape:
            changed = np.count_nonzero(cv2.absdiff(grey, previous) > CHANGED_PIXEL)
            if changed < CHANGED_SHARE * grey.size:
                self._resolve()
                for line in self.open:
                    line.last = t
                self._remember(frame)
                return
        shifts = _vertical_shifts(previous, grey) if previous is not None and any(l.box for l in self.open) else [0.0]
        # On a schedule of its own (the same in a resumed run), the larger copy is searched instead of the
        # small one: small captions in low contrast (yellow on foliage) are invisible on the small one.
        phase = round(t / GATE_STEP) % SWEEP_EVERY
        sweep = phase == 0
        if (rolled := self._roll(frame, previous, grey, shifts)) is not None:  # a sweep too: a roll fills the picture
            self._settle(t, *rolled, scrolled=True)
            self._remember(frame)
            return
        self._resolve()
        if sweep:
            image = frame.rgb(READ_WIDTH)
            boxes = self.reader.detect(_sharpened(image))
        elif phase == SWEEP_EVERY // 2:  # a caption shown 1.4 s may miss both sweeps
            boxes = self.reader.detect(_sharpened(frame.rgb(GLANCE_WIDTH)))
        else:
            boxes = self.reader.detect(_sharpened(small))
        shifts.append(self.scroll)
        dy = self._pick_shift(shifts, boxes, previous, grey)
        seen, unread = self._match(boxes, dy)
        missing = [line for line in self.open if id(line) not in seen and line.text]
        missing += self._lost_lately(t)  # looked for once more (see `_read`)
        new: list[Line] = []
        if unread or missing or sweep:
            if not sweep:
                # Something new, or a line gone: detect again on the larger copy, which finds thin or
                # low-contrast text the small one misses and gives whole boxes where the small one gives
                # pieces; read only the boxes that match no open line.
                image = frame.rgb(READ_WIDTH)
                larger = self.reader.detect(_sharpened(image))
                if (better := self._pick_shift(shifts, larger, previous, grey)) != dy:  # more boxes to go by
                    dy = better
                    seen, _ = self._match(boxes, dy)
                found, unread = self._match(larger, dy)
                for key, box in found.items():
                    seen.setdefault(key, box)
            new = self._read(image, unread, seen, t)
            if abs(dy) < STILL:
                self._look_back(new)
                if self.rolling is None:  # lines of a roll that stopped moved on: not read where they were
                    self._still_read(image, seen)
        self._remember(frame)
        self._settle(t, seen, new, scrolled=abs(dy) >= STILL)

    def _settle(self, t: float, seen: dict[int, Box], new: list[Line], scrolled: bool) -> None:
        """Open lines seen at `t` stay open (at their new boxes), the others close; `new` lines open."""
        still = []
        for line in self.open:
            if id(line) in seen:
                line.last, line.box = t, seen[id(line)]
                still.append(line)
            else:
                self.done.append(line)
        self.open = still + new
        self.rolling = t if scrolled else None

    def _roll(self, frame: DecodedFrame, previous: np.ndarray | None, grey: np.ndarray,
              shifts: list[float]) -> tuple[dict[int, Box], list[Line]] | None:
        """A credits roll, once it is scrolling: every open line moved by the roll's shift and still looks
        as it did is seen there, lines moved out of the picture are gone, and only the band the roll brought
        in is searched on the larger copy (about a fifth of it), for the lines to read. The small copy is not
        searched: a roll's thin lines are invisible on it. None where this does not hold (the roll stopped
        or changed speed, a line changed): the frame is then searched whole."""
        if previous is None or self.rolling is None or self.rolling < self.gates[-2] - 1e-6 or not self.open:
            return None
        dy = next((s for s in shifts if abs(s - self.scroll) <= ROLL_SPEED * abs(self.scroll)), None)
        if dy is None:
            return None
        tallest = max((box[3] - box[1] for box in self._boxes()), default=0.05)
        top, bottom = (1.0 + dy - ROLL_MARGIN * tallest, 1.0) if dy < 0 else (0.0, dy + ROLL_MARGIN * tallest)
        image = frame.rgb(READ_WIDTH)
        rows = image.shape[0]
        first, last = max(0, int(top * rows)), min(rows, int(np.ceil(bottom * rows)))
        band = [(b[0], (first + b[1] * (last - first)) / rows, b[2], (first + b[3] * (last - first)) / rows)
                for b in self.reader.detect(image[first:last])]
        self._resolve()  # the lines read on the frame before, read beside this frame's detection
        # The previous frame moved by the shift, to a fraction of a pixel: thin letters 8 px high correlate
        # ~0.4 with themselves half a pixel off.
        moved = cv2.warpAffine(previous, np.float32([[1, 0, 0], [0, 1, dy * grey.shape[0]]]), grey.shape[::-1])
        seen: dict[int, Box] = {}
        changed = 0
        for line in self.open:
            if line.box is None:
                return None
            at = (line.box[0], line.box[1] + dy, line.box[2], line.box[3] + dy)
            if (at[1] + at[3]) / 2 < 0 or (at[1] + at[3]) / 2 > 1:
                continue  # scrolled out of the picture
            if _alike(_crop(moved, at), _crop(grey, at)):
                seen[id(line)] = at
            else:
                changed += 1
        # A line or two of a dense roll that no longer look the same end there; more, and the roll is over.
        if changed > ROLL_CHANGED * (len(seen) + changed):
            return None
        self._pair = None
        found, unread = self._match(band, dy)
        seen.update(found)
        self.scroll = dy
        if unread:
            # Read on a thread of its own while the next frame is searched; `_resolve` adds the lines.
            self._reading = (self._reader_thread().submit(self.reader.recognise, image, unread), frame.time, unread)
        return seen, []

    def _boxes(self) -> list[Box]:
        """Where the open lines are, and the lines still being read."""
        return [line.box for line in self.open if line.box] + (self._reading[2] if self._reading else [])

    def _reader_thread(self) -> ThreadPoolExecutor:
        if self._reads is None:
            self._reads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="videoqa-ocr-ahead")
        return self._reads

    def _resolve(self) -> None:
        """Add the lines of the last roll frame's reads, as `_read` would have on that frame: a line that
        reads as a line lost on that frame goes on, the rest are new."""
        if self._reading is None:
            return
        (future, t, _), self._reading = self._reading, None
        for result in future.result():
            lost = next((line for line in self._lost_lately(t)
                         if result.text and same_words(line.text, result.text, SAME_LINE)), None)
            self.open.append(self._reopened(lost, t, result.box) if lost is not None else Line(result.text, result.box, t, t))

    def close(self) -> None:
        """Let the roll's reading thread go (after the reads it holds)."""
        if self._reads is not None:
            self._reads.shutdown(wait=True)

    def _match(self, boxes: list[Box], dy: float) -> tuple[dict[int, Box], list[Box]]:
        """Pair boxes with open lines (moved by `dy`): {id(line): box}, and the boxes left to read. A box
        that pairs with no line but lies mostly inside open lines' boxes keeps those lines on screen: dense
        text (a credits roll) is cut into boxes differently from frame to frame, and is not read again."""
        seen: dict[int, Box] = {}
        left = []
        moved = [(line, (b[0], b[1] + dy, b[2], b[3] + dy)) for line in self.open if (b := line.box) is not None]
        overlaps, ious = _pairwise(boxes, [at for _, at in moved])
        for i, box in enumerate(boxes):
            if box[3] - box[1] < MIN_HEIGHT:
                continue
            best, best_iou = None, MATCH_IOU
            for j in np.flatnonzero(ious[i] > MATCH_IOU) if moved else ():
                line, at = moved[j]
                if id(line) not in seen and ious[i, j] > best_iou and box[2] - box[0] <= GROWN * (at[2] - at[0]) + 0.01:
                    best, best_iou = line, ious[i, j]
            if best is not None:
                if self._redrawn(box):  # other letters where the line was: new text to read
                    left.append(box)
                else:
                    seen[id(best)] = box
                continue
            inside = np.flatnonzero(overlaps[i] > 0) if moved else ()
            if sum(overlaps[i, j] for j in inside) >= COVERED * _area(box) and not self._redrawn(box):
                for j in inside:
                    seen.setdefault(id(moved[j][0]), moved[j][1])
            else:
                left.append(box)
        return seen, left

    def _pick_shift(self, shifts: list[float], boxes: list[Box], previous: np.ndarray | None, grey: np.ndarray) -> float:
        """The shift (of `shifts`, likeliest first) that pairs the most boxes with open lines: where a roll's
        shift was measured weakly, the boxes confirm it rather than every line being read again."""
        placed = [line.box for line in self.open if line.box is not None]
        dy, most = shifts[0], -1
        for shift in dict.fromkeys(shifts):
            _, iou = _pairwise(boxes, [(b[0], b[1] + shift, b[2], b[3] + shift) for b in placed])
            pairs = int((iou > MATCH_IOU).any(axis=1).sum()) if iou.size else 0
            if pairs > most:
                dy, most = shift, pairs
        if abs(dy) >= STILL:
            self.scroll = dy
        # Where nothing scrolled, a box's pixels are compared with the previous gate frame's: a card drawn
        # where another was matches its position but not its look.
        self._pair = (previous, grey) if previous is not None and previous.shape == grey.shape and abs(dy) < STILL else None
        return dy

    def _redrawn(self, box: Box) -> bool:
        """Whether the pixels at `box` now show another pattern than on the previous gate frame (see
        `_alike`): other letters in the same place, or letters over what was blank."""
        if self._pair is None:
            return False
        return not _alike(*(_crop(image, box) for image in self._pair))

    def _remember(self, frame: DecodedFrame) -> None:
        self.recent = [*self.recent, frame][-LOOK_BACK:]

    def _look_back(self, new: list[Line]) -> None:
        """A line first found on the larger copy may have been on screen since an earlier gate frame: only
        the small copy was searched there, or the larger copy's detection, which flickers on busy footage,
        missed it or cut it short ("Sumr" for "Summit"). Its start goes back over the last LOOK_BACK frames
        on which its box, read on the larger copy, reads as the same words (not before the last
        checkpoint, whose rows are written).
        Pixels alone do not tell: over moving foliage a faint caption's box never correlates, and over a
        still room the room alone correlates with the room plus caption."""
        extending = [line for line in new if line.text]  # a box that read as no text needs no start
        for frame in reversed([f for f in self.recent if f.time >= self.committed_to - 1e-6]):
            if not extending:
                return
            earlier = frame.rgb(READ_WIDTH)
            reads = self.reader.recognise(earlier, [line.box for line in extending])
            extending = [line for line, read in zip(extending, reads)
                         if read.text and same_words(line.text, read.text, SAME_LINE)]
            for line in extending:
                line.first = frame.time

    def _still_read(self, image: np.ndarray, seen: dict[int, Box]) -> None:
        """Open lines that no box matched stay where their box, read on the larger copy, still reads as the
        same words: detection of a faint caption on busy footage misses it for a second or two before it
        goes (a row ended 1.1 s early), and a line that is gone reads as something else or as nothing."""
        lost = [line for line in self.open if id(line) not in seen and line.text and line.box is not None]
        for line, read in zip(lost, self.reader.recognise(image, [line.box for line in lost])):
            if read.text and same_words(line.text, read.text, SAME_LINE):
                seen[id(line)] = line.box

    def _read(self, image: np.ndarray, boxes: list[Box], seen: dict[int, Box], t: float) -> list[Line]:
        new = []
        for result in self.reader.recognise(image, boxes):
            twin = self._same_text(result.text, seen) if result.text else None
            if twin is not None:  # the same words where the box match failed (or a line rebuilt on resume)
                seen[id(twin)] = result.box
                if twin.row is None and len(squash(result.text)) > len(squash(twin.text)):
                    twin.text = result.text  # detection cut the line short at first ("GEON" for "PIGEON")
            elif result.text and (missed := self._missed_once(result.text, result.box, t)) is not None:
                # Detection of a faint caption on busy footage flickers: missed on one gate frame, the line
                # goes on rather than starting a second row.
                new.append(self._reopened(missed, t, result.box))
            else:
                new.append(Line(result.text, result.box, t, t))
        return new

    def _reopened(self, line: Line, t: float, box: Box) -> Line:
        """A closed line seen again at `t`, at `box`: it goes on rather than a second row starting."""
        self.done.remove(line)
        line.last, line.box = t, box
        return line

    def _lost_lately(self, t: float) -> list[Line]:
        """Lines last seen on the gate frame before `t`'s, and not on it."""
        return [line for line in self.done if line.text and line.last >= t - 2 * GATE_STEP - 1e-6]

    def _missed_once(self, text: str, box: Box, t: float) -> Line | None:
        for line in self._lost_lately(t):
            if line.box is not None and _iou(line.box, box) > MATCH_IOU and same_words(line.text, text, SAME_LINE):
                return line
        return None

    def _same_text(self, text: str, seen: dict[int, Box]) -> Line | None:
        for line in self.open:
            if id(line) not in seen and line.text and same_words(line.text, text, SAME_LINE):
                return line
        return None

    # -- rows -----------------------------------------------------------------------------------
    def rows(self, before: float) -> TextRows:
        """Rows for everything seen on gate frames before `before` (the checkpoint's resume time): a run
        resumed there sees the rest again, so nothing after it may be written now."""
        self._resolve()
        self.committed_to = max(self.committed_to, before)
        earlier = [g for g in self.gates if g < before - 1e-6]
        if not earlier:
            return TextRows()
        last_gate = earlier[-1]
        self.gates = self.gates[len(earlier) - 1 :]
        out = TextRows()
        for line in self.done + self.open:
            if not line.text or line.first >= before - 1e-6:
                continue
            end = min(line.last, last_gate)
            if line.row is None:
                line.row = NewText(TextRow(line.first, end, "ocr", line.text, {"box": [round(v, 4) for v in line.box or ()]}))
                line.stored_end = end
                out.new.append(line.row)
                out.lines.append(line)
            elif end > line.stored_end + 1e-6:
                line.stored_end = end
                out.extend.append((line, end))
        # A closed line stays until its row holds its whole span.
        self.done = [l for l in self.done if l.text and (l.row is None or l.stored_end < l.last - 1e-6)]
        return out


class TextThread:
    """A TextTracker on a thread of its own, so text detection and reading run beside decoding instead of
    after each frame. Frames are fed in order; `rows` is queued behind the frames fed before it, so its
    future holds exactly what a tracker fed on the decoding thread would have returned then."""

    def __init__(self, tracker: TextTracker, backlog: int = BACKLOG) -> None:
        self.tracker = tracker
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="videoqa-ocr")
        self._room = threading.BoundedSemaphore(backlog)
        self._error: BaseException | None = None

    def feed(self, frame: DecodedFrame) -> None:
        if self._error is not None:
            raise self._error
        self._room.acquire()
        self._pool.submit(self._feed, frame)

    def _feed(self, frame: DecodedFrame) -> None:
        try:
            if self._error is None:
                self.tracker.feed(frame)
        except BaseException as exc:  # raised again by the next feed or rows
            self._error = exc
        finally:
            self._room.release()

    def rows(self, before: float) -> Future:
        """A future of `TextTracker.rows(before)`, once every frame fed so far is tracked."""
        return self._pool.submit(self._rows, before)

    def _rows(self, before: float) -> TextRows:
        if self._error is not None:
            raise self._error
        return self.tracker.rows(before)

    def close(self) -> None:
        self._error = self._error or _Closed()  # frames still queued are skipped
        self._pool.shutdown(wait=True)
        self.tracker.close()


class _Closed(Exception):
    """The pass ended before the text thread caught up (only after another error)."""


def lines_at(conn: sqlite3.Connection, video_id: str, resume_time: float) -> tuple[tuple[int, float, float, str], ...]:
    """(id, start, end, text) of the OCR rows still open at the last gate frame before `resume_time`."""
    if resume_time <= 0:
        return ()
    return tuple(tuple(row) for row in conn.execute(
        "SELECT id, start, end, text FROM texts WHERE video_id=? AND source='ocr' AND end >= ? AND start < ? ORDER BY id",
        (video_id, resume_time - GATE_STEP - 1e-6, resume_time),
    ))


def _alike(before: np.ndarray, now: np.ndarray) -> bool:
    """Whether two grey crops of one box show the same pattern: normalised correlation, so a fade (the same
    letters, more or less contrast) is alike, and other letters, or letters over a plain area, are not."""
    rows, cols = min(before.shape[0], now.shape[0]), min(before.shape[1], now.shape[1])  # crops of a moved box round apart
    before, now = before[:rows, :cols], now[:rows, :cols]
    if rows < 3 or cols < 6:
        return True
    a, b = before - before.mean(), now - now.mean()
    spread_a, spread_b = float(np.sqrt((a * a).mean())), float(np.sqrt((b * b).mean()))
    if spread_a < FLAT or spread_b < FLAT:
        return (spread_a < FLAT) == (spread_b < FLAT)
    return float((a * b).mean()) / (spread_a * spread_b) >= SAME_LOOK


def _sharpened(image: np.ndarray) -> np.ndarray:
    """The picture text is looked for on (lines are read from the picture itself): captions without a box,
    thin on a busy picture, stand out. On the small copy 27 of 30 cards were found, not 25; on the larger
    one a yellow caption over foliage, missed on four gate frames of five, was found on all of them."""
    return cv2.addWeighted(image, 1.8, cv2.GaussianBlur(image, (0, 0), 1.0), -0.8, 0)


def _crop(image: np.ndarray, box: Box) -> np.ndarray:
    height, width = image.shape[:2]
    x0, y0 = max(0, int(box[0] * width)), max(0, int(box[1] * height))
    x1, y1 = min(width, int(np.ceil(box[2] * width))), min(height, int(np.ceil(box[3] * height)))
    return image[y0:y1, x0:x1].astype(np.float32)


def _area(a: Box) -> float:
    return (a[2] - a[0]) * (a[3] - a[1])


def _overlap(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _pairwise(boxes: list[Box], others: list[Box]) -> tuple[np.ndarray, np.ndarray]:
    """The overlap areas and IoUs of every box with every other (rows: `boxes`): a roll's screen holds
    dozens of lines, matched against dozens of boxes on every gate frame."""
    a = np.asarray(boxes, np.float64).reshape(-1, 4)[:, None, :]
    b = np.asarray(others, np.float64).reshape(-1, 4)[None, :, :]
    width = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    height = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    overlap = np.where((width > 0) & (height > 0), width * height, 0.0)
    areas = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = areas - overlap
    return overlap, np.divide(overlap, union, out=np.zeros_like(overlap), where=(overlap > 0) & (union > 0))


def _iou(a: Box, b: Box) -> float:
    inter = _overlap(a, b)
    return inter / (_area(a) + _area(b) - inter) if inter else 0.0


def _vertical_shifts(previous: np.ndarray, current: np.ndarray) -> list[float]:
    """How far the picture may have moved down between two gate frames (fractions of its height), the likeliest
    first: 0 unless the whole picture clearly moved together (a roll), so ordinary motion does not shift
    the boxes; then the shift phase correlation measured where its peak is weak (the roll's background also
    moves), for the boxes to confirm."""
    (dx, dy), response = cv2.phaseCorrelate(previous.astype(np.float32), current.astype(np.float32))
    shift = dy / current.shape[0]
    if abs(dx) > 2 or abs(shift) < STILL:
        return [0.0]
    return [shift, 0.0] if response >= 0.2 else [0.0, shift]
