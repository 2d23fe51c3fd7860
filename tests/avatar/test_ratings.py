"""The SQLite ratings store: validation, concurrent writers, a killed writer, CSV export."""

import csv
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from avatar.errors import AvatarError
from avatar.ratings import COLUMNS, Rating, RatingStore


def _score(score=4, **changes) -> Rating:
    values = dict(kind="score", clip="out/job1/clip.mp4", rater="r1", score=score, segment=0, frame_start=0,
                  frame_end=24, settings={"preset": "vlog", "refiner": "gan"}, checkpoint_sha256="ab" * 32)
    values.update(changes)
    return Rating(**values)


def test_round_trip_and_wal(tmp_path):
    store = RatingStore(tmp_path / "ratings.db")
    first = store.add(_score())
    second = store.add(Rating(kind="preference", clip="a.mp4", other_clip="b.mp4", preferred="b", rater="r2",
                              checkpoint_sha256="aa", other_checkpoint_sha256="bb"))
    assert second == first + 1
    rows = store.all()
    assert [row.kind for row in rows] == ["score", "preference"]
    assert rows[0].settings == {"preset": "vlog", "refiner": "gan"}
    assert rows[0].created.endswith("Z")
    assert rows[1].preferred == "b"
    assert store.all("preference")[0].other_clip == "b.mp4"
    with sqlite3.connect(tmp_path / "ratings.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("rating", "key"),
    [
        (_score(score=0), "invalid_score"),
        (_score(score=6), "invalid_score"),
        (_score(frame_start=10, frame_end=2), "invalid_frame_range"),
        (Rating(kind="preference", clip="a.mp4", rater="r", preferred="b"), "preference_needs_two_clips"),
        (Rating(kind="preference", clip="a.mp4", other_clip="b", rater="r", preferred="c"), "invalid_preference"),
        (Rating(kind="stars", clip="a.mp4", rater="r"), "invalid_rating_kind"),
        (_score(rater=""), "rating_incomplete"),
    ],
)
def test_invalid_ratings_rejected(tmp_path, rating, key):
    store = RatingStore(tmp_path / "ratings.db")
    with pytest.raises(AvatarError) as caught:
        store.add(rating)
    assert caught.value.key == key
    assert store.count() == 0


def test_not_a_database_is_reported(tmp_path):
    path = tmp_path / "ratings.db"
    path.write_text("these are my notes, not a database" * 100, encoding="utf-8")
    with pytest.raises(AvatarError) as caught:
        RatingStore(path)
    assert caught.value.key == "ratings_unusable"
    assert path.read_text(encoding="utf-8").startswith("these are my notes")



def test_new_file_opened_by_many_at_once(tmp_path):
    # The studio's cleaner thread and its app open the same new file at start-up. Before the WAL
    # switch was retried, about one start in thirty failed with "database is locked".
    for attempt in range(60):
        path = tmp_path / f"ratings{attempt}.db"
        errors = []

        def open_store(path=path, errors=errors):
            try:
                RatingStore(path).count()
            except AvatarError as error:
                errors.append(error)

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], f"attempt {attempt}: {errors[0]}"


WRITER = textwrap.dedent("""
    import sys
    from avatar.ratings import Rating, RatingStore
    store = RatingStore(sys.argv[1])
    for number in range(int(sys.argv[3])):
        store.add(Rating(kind="score", clip=f"{sys.argv[2]}-{number}.mp4", rater=sys.argv[2], score=1 + number % 5))
        print(number, flush=True)
""")


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "ratings.db"
    RatingStore(path)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"rater{index}", "60"],
                                stdout=subprocess.DEVNULL) for index in range(4)]
    assert all(writer.wait(timeout=120) == 0 for writer in writers)
    store = RatingStore(path)
    assert store.count() == 240
    for index in range(4):
        assert sum(row.rater == f"rater{index}" for row in store.all()) == 60


def test_killed_writer_keeps_committed_rows(tmp_path):
    path = tmp_path / "ratings.db"
    RatingStore(path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "killed", "100000"], stdout=subprocess.PIPE,
                              text=True)
    confirmed = -1
    deadline = time.monotonic() + 60
    while confirmed < 50 and time.monotonic() < deadline:
        confirmed = int(writer.stdout.readline())
    writer.kill()
    writer.wait()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every rating the writer confirmed is stored; the one in flight may or may not be.
    assert RatingStore(path).count() >= confirmed + 1


def test_export_csv(tmp_path):
    store = RatingStore(tmp_path / "ratings.db")
    store.add(_score(settings={"portrait": "我的照片.png"}))
    store.add(_score(score=2))
    output = tmp_path / "export.csv"
    assert store.export_csv(output) == 2
    with output.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["settings"] == '{"portrait": "我的照片.png"}'
    assert [row["score"] for row in rows] == ["4", "2"]
