"""Realism ratings of rendered clips, stored in SQLite.

Two kinds of rating share one table:

- `score`: one clip (or a frame range of it) rated for realism from 1 to 5;
- `preference`: an A/B pair of clips of the same sentence, and which one looks
  more real (`a`, `b`, or `same`).

Each row also stores the render settings (JSON), the sha256 of each clip's
generator checkpoint, an anonymous rater id and the UTC time. The database
runs in WAL mode, so raters write while others read, and every rating is one
short transaction: a killed server loses at most the rating in flight and
never corrupts the file.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from avatar.errors import AvatarError

SCHEMA_VERSION = 1
SCORE_RANGE = (1, 5)
PREFERENCES = ("a", "b", "same")
# A writer waits this long for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('score', 'preference')),
    clip TEXT NOT NULL,
    other_clip TEXT,
    segment INTEGER,
    frame_start INTEGER,
    frame_end INTEGER,
    score INTEGER CHECK (score BETWEEN 1 AND 5),
    preferred TEXT CHECK (preferred IN ('a', 'b', 'same')),
    settings TEXT NOT NULL DEFAULT '{}',
    checkpoint_sha256 TEXT,
    other_checkpoint_sha256 TEXT,
    rater TEXT NOT NULL,
    created TEXT NOT NULL,
    CHECK ((kind = 'score' AND score IS NOT NULL AND other_clip IS NULL)
        OR (kind = 'preference' AND preferred IS NOT NULL AND other_clip IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS ratings_clip ON ratings (clip);
"""
COLUMNS = ("id", "kind", "clip", "other_clip", "segment", "frame_start", "frame_end", "score", "preferred",
           "settings", "checkpoint_sha256", "other_checkpoint_sha256", "rater", "created")


@dataclass(frozen=True)
class Rating:
    """One rating row; `other_*` fields belong to clip B of a preference."""

    kind: str
    clip: str
    rater: str
    score: int | None = None
    preferred: str | None = None
    other_clip: str | None = None
    segment: int | None = None
    frame_start: int | None = None
    frame_end: int | None = None
    settings: dict = field(default_factory=dict)
    checkpoint_sha256: str | None = None
    other_checkpoint_sha256: str | None = None
    created: str | None = None
    id: int | None = None

    def check(self) -> None:
        """Raise AvatarError for a rating that cannot be stored."""
        if self.kind == "score":
            if not isinstance(self.score, int) or not SCORE_RANGE[0] <= self.score <= SCORE_RANGE[1]:
                raise AvatarError("invalid_score", value=self.score, low=SCORE_RANGE[0], high=SCORE_RANGE[1])
        elif self.kind == "preference":
            if self.preferred not in PREFERENCES:
                raise AvatarError("invalid_preference", value=self.preferred, choices=", ".join(PREFERENCES))
            if not self.other_clip:
                raise AvatarError("preference_needs_two_clips")
        else:
            raise AvatarError("invalid_rating_kind", value=self.kind)
        if not self.clip or not self.rater:
            raise AvatarError("rating_incomplete")
        if self.frame_start is not None and self.frame_end is not None and self.frame_end < self.frame_start:
            raise AvatarError("invalid_frame_range", start=self.frame_start, end=self.frame_end)


class RatingStore:
    """A ratings database file; safe to share between threads and processes.

    Each call opens its own connection, so the store can be used from Gradio's
    worker threads and from several server processes at once.

    Raises:
        AvatarError: the file cannot be created or is not a ratings database.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._create()
        except sqlite3.DatabaseError as error:
            raise AvatarError("ratings_unusable", path=str(self.path), reason=str(error)) from None
        except OSError as error:
            raise AvatarError("ratings_unusable", path=str(self.path), reason=error.strerror or str(error)) from None

    def _create(self) -> None:
        # Two connections opening a new file at once race to switch it to WAL. SQLite can return
        # SQLITE_BUSY to the loser at once, without waiting on busy_timeout (6 of 200 tries with
        # 4 threads here), so the switch is retried until the timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                with self._connect() as connection:
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.executescript(_SCHEMA)
                    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # NORMAL keeps WAL commits durable across a killed process; only power loss may drop the last ones.
            connection.execute("PRAGMA synchronous=NORMAL")
            yield connection
        finally:
            connection.close()

    def add(self, rating: Rating) -> int:
        """Store one rating in its own transaction and return its id."""
        rating.check()
        created = rating.created or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        values = asdict(rating)
        values.update(settings=json.dumps(rating.settings, ensure_ascii=False, sort_keys=True), created=created)
        del values["id"]
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._connect() as connection:
            cursor = connection.execute(f"INSERT INTO ratings ({names}) VALUES ({marks})", tuple(values.values()))
            return int(cursor.lastrowid)

    def all(self, kind: str | None = None) -> list[Rating]:
        """Return every rating (of one kind if given), oldest first."""
        query = f"SELECT {', '.join(COLUMNS)} FROM ratings"
        arguments: tuple = ()
        if kind is not None:
            query += " WHERE kind = ?"
            arguments = (kind,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id", arguments).fetchall()
        return [_to_rating(row) for row in rows]

    def count(self) -> int:
        with self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM ratings").fetchone()[0])

    def export_csv(self, output: Path) -> int:
        """Write every rating to a CSV file (UTF-8 with BOM, for spreadsheets); return the row count."""
        from avatar.fileio import atomic_path

        ratings = self.all()
        with atomic_path(output) as temporary, temporary.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for rating in ratings:
                row = asdict(rating)
                row["settings"] = json.dumps(rating.settings, ensure_ascii=False, sort_keys=True)
                writer.writerow([row[column] for column in COLUMNS])
        return len(ratings)


def _to_rating(row: tuple) -> Rating:
    values = dict(zip(COLUMNS, row, strict=True))
    values["settings"] = json.loads(values["settings"] or "{}")
    return Rating(**values)
