"""`videoqa verify`: check every part of a store against the others; repair what is derived.

SQLite is the truth. The FAISS caches and the keyframe thumbnails are made from it (and from the video
files), so damage there is repaired: caches rebuilt from the vector rows, thumbnails decoded again. Damage to
the database itself, or a thumbnail whose video is gone, cannot be repaired here and is reported."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from . import thumbnails
from .lease import HOST, pid_alive
from .store import Store

@dataclass(frozen=True)
class Finding:
    part: str  # database | faiss | thumbnails | ingest
    problem: str
    repaired: bool

    def line(self) -> str:
        return f"{self.part}: {self.problem}" + (" (repaired)" if self.repaired else "")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # what was looked at: videos, vectors, thumbnails...

    @property
    def damaged(self) -> bool:
        """Damage left that could not be repaired."""
        return any(not f.repaired for f in self.findings if f.part != "ingest")

    def to_dict(self) -> dict:
        return {"ok": not self.damaged, "checked": self.checked, "findings": [asdict(f) for f in self.findings]}


def verify(store: Store) -> Report:
    report = Report()
    _database(store, report)
    if report.damaged:  # the rows cannot be trusted: rebuilding caches from them would spread the damage
        return report
    _orphan_vectors(store, report)
    _caches(store, report)
    _thumbnails(store, report)
    _interrupted(store, report)
    return report


def _database(store: Store, report: Report) -> None:
    problems = [row[0] for row in store.conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        report.findings.append(Finding("database", "SQLite integrity check failed: " + "; ".join(problems[:3]) +
                                       ". Restore the store from a backup, or index the videos again into a new --store", False))
    broken_links = store.conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken_links:
        report.findings.append(Finding("database", f"{len(broken_links)} rows point at videos that are gone", False))
    report.checked["videos"] = store.conn.execute("SELECT count(*) FROM videos").fetchone()[0]


def _orphan_vectors(store: Store, report: Report) -> None:
    """Vector rows whose text, frame or keyframe is gone would surface as hits without content: delete them."""
    removed = store.delete_orphan_vectors()
    report.checked["vectors"] = store.conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    if removed:
        report.findings.append(Finding("database", f"{removed} vector rows pointed at rows that are gone; deleted", True))


def _caches(store: Store, report: Report) -> None:
    folder = store.root / "faiss"
    modalities = [row[0] for row in store.conn.execute("SELECT modality FROM embedders ORDER BY modality")]
    for modality in modalities:
        index = store.vector_index(modality)
        problem = index.rebuild_if_damaged()
        if problem:
            report.findings.append(Finding("faiss", f"{index.path.name} was {problem}; rebuilt from {index.stamp.count} vector rows", True))
    report.checked["caches"] = len(modalities)
    leftovers = [p for p in folder.glob("*") if p.suffix in (".tmp", ".index", ".json")] if folder.is_dir() else []
    for path in leftovers:  # temporary files of killed writers, caches in the schema-2 format
        path.unlink(missing_ok=True)
    if leftovers:
        report.findings.append(Finding("faiss", f"{len(leftovers)} leftover files (unfinished or old-format caches); deleted", True))


def _thumbnails(store: Store, report: Report) -> None:
    total = 0
    for video in store.videos():
        keyframes = store.keyframes(video.id)
        total += len(keyframes)
        broken = [k for k in keyframes if not thumbnails.readable(store.absolute(k.thumbnail))]
        if not broken:
            continue
        remade, problem = thumbnails.repair(store, video.id, broken)
        if remade:
            report.findings.append(Finding("thumbnails", f"{remade} of {video.path} were missing or unreadable; made again", True))
        if problem:
            report.findings.append(Finding("thumbnails", f"{len(broken) - remade} of {video.path} are missing and cannot be made: {problem}", False))
    report.checked["thumbnails"] = total
    leftovers = list((store.root / "thumbs").rglob(".*.tmp"))  # a writer killed between write and rename
    for path in leftovers:
        path.unlink(missing_ok=True)
    if leftovers:
        report.findings.append(Finding("thumbnails", f"{len(leftovers)} unfinished files of killed writers; deleted", True))


def _interrupted(store: Store, report: Report) -> None:
    """Not damage: an ingest that stopped part-way resumes where it stopped."""
    live = {row[0] for row in store.conn.execute("SELECT video_id, pid, host FROM leases") if row[2] != HOST or pid_alive(row[1])}
    for video in store.videos():
        if video.status != "ready" and video.id not in live:
            report.findings.append(Finding("ingest", f"{video.path} was not fully indexed; run videoqa index {video.path} to resume", False))
