"""`avatar batch`: manifest checks, parallel rendering, resuming, failures, and a real Ray cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avatar.batch import BatchOptions, read_manifest, run_batch
from avatar.errors import AvatarError
from avatar.media import probe
from tests.conftest import run_cli

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# Small and fast: 256 px, warp only, one short sentence per item.
OPTIONS = BatchOptions(size=256, fps=25, refiner="none", workers=2, language="en")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _reasons(rejected) -> dict[int, str]:
    return {status.row: status.key for status in rejected}


# ---- manifest checks (no rendering)


def test_csv_rows_checked_and_named_by_row(tmp_path, english_messages):
    _write(tmp_path / "scripts" / "one.txt", "大家好。")
    manifest = _write(tmp_path / "jobs.csv", "\n".join([
        "id,script,script_file,portrait,output",
        "a1,,scripts/one.txt,,",
        "a2,Hello there.,,,en/a2.mp4",
        "a1,Again.,,,",                       # 4: duplicate id
        "a3,Other.,,,en/a2.mp4",              # 5: duplicate output
        "a4,,../outside.txt,,",               # 6: path escapes the manifest folder
        "a5,Text.,scripts/one.txt,,",         # 7: both script and script_file
        "a6,Text.,,missing.png,",             # 8: missing input
        "a7,Text.,,,../../escape.mp4",        # 9: output escapes OUTDIR
        "bad/id,Text.,,,",                    # 10: id with a separator
        "a8,Text.,,,a8.mov",                  # 11: not an MP4
    ]) + "\n")
    layouts = _write(tmp_path / "layouts.csv", "id,script,layout,headline\nb1,Hi.,nws,\nb2,Hi.,full,Title\n"
                     "b3,Hi.,news,Title\n")
    _write(tmp_path.parent / "outside.txt", "x")

    items, rejected = read_manifest(manifest, tmp_path / "out")
    assert [item.id for item in items] == ["a1", "a2"]
    assert items[0].script == "大家好。"
    assert items[0].script_file == (tmp_path / "scripts" / "one.txt").resolve()
    assert items[1].output == (tmp_path / "out" / "en" / "a2.mp4").resolve()
    assert _reasons(rejected) == {4: "batch_duplicate_id", 5: "batch_duplicate_output", 6: "batch_path_outside",
                                  7: "batch_script_choice", 8: "batch_input_missing", 9: "batch_output_outside",
                                  10: "batch_bad_id", 11: "batch_bad_value"}
    assert all(f"Row {row}" in status.reason for row, status in zip(_reasons(rejected), rejected, strict=True))

    # A layout that does not exist, or a headline for a layout without a lower third.
    layout_items, layout_rejected = read_manifest(layouts, tmp_path / "out")
    assert [item.id for item in layout_items] == ["b3"]
    assert _reasons(layout_rejected) == {2: "layout_unknown", 3: "layout_no_element"}
    assert layout_rejected[0].reason.startswith("Row 2: ")

    # Seeds come from the ids, so they are the same on every run and machine.
    again, _ = read_manifest(manifest, tmp_path / "out")
    assert [item.seed for item in again] == [item.seed for item in items]
    assert items[0].seed != items[1].seed


def test_allow_root_and_symlink_escape(tmp_path):
    shared = tmp_path / "shared_portraits"
    shared.mkdir()
    shutil.copy(DATA / "portraits" / "p02_real_frontal_man_mead60.png", shared / "p.png")
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "link.png").symlink_to(shared / "p.png")
    manifest = _write(jobs / "m.jsonl", "\n".join([
        json.dumps({"id": "direct", "script": "Hi.", "portrait": str(shared / "p.png")}),
        json.dumps({"id": "linked", "script": "Hi.", "portrait": "link.png"}),
    ]) + "\n")
    _, rejected = read_manifest(manifest, tmp_path / "out")
    # The symlink inside the manifest folder points outside it, so it is rejected too.
    assert _reasons(rejected) == {1: "batch_path_outside", 2: "batch_path_outside"}
    items, rejected = read_manifest(manifest, tmp_path / "out", allowed_roots=(shared,))
    assert rejected == [] and [item.portrait for item in items] == [(shared / "p.png").resolve()] * 2


def test_spreadsheet_export_quirks(tmp_path):
    # Capitalised headers, an empty column and a blank row left by a spreadsheet, CRLF line ends,
    # and a cell with line breaks: the next row is still numbered as the spreadsheet shows it.
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b'ID,Script,\r\nm1,"Para one.\r\n\r\nPara two.",\r\n,,\r\nbad id,Hi.,\r\n')
    items, rejected = read_manifest(manifest, tmp_path / "out")
    assert [item.script for item in items] == ["Para one.\r\n\r\nPara two."]
    assert _reasons(rejected) == {4: "batch_bad_id"}
    semicolons = _write(tmp_path / "s.csv", "id;script\ns1;Hallo, Welt.\n")
    assert [item.script for item in read_manifest(semicolons, tmp_path / "out")[0]] == ["Hallo, Welt."]


def test_template_images_checked_and_fingerprinted(tmp_path):
    from avatar.layout import builtin_path

    jobs = tmp_path / "jobs"
    jobs.mkdir()
    template = json.loads(builtin_path("news").read_text(encoding="utf-8"))
    template["background"] = str(builtin_path("news").parent / "studio.png")  # outside the allowed roots
    template["logo"]["image"] = str(builtin_path("news").parent / "logo.png")
    _write(jobs / "mine.json", json.dumps(template))
    manifest = _write(jobs / "m.csv", "id,script,layout\nt1,Hi.,mine.json\n")
    _, rejected = read_manifest(manifest, tmp_path / "out")
    assert _reasons(rejected) == {2: "batch_path_outside"}

    for name in ("studio.png", "logo.png"):
        shutil.copy(builtin_path("news").parent / name, jobs / name)
    template["background"], template["logo"]["image"] = "studio.png", "logo.png"
    _write(jobs / "mine.json", json.dumps(template))
    items, rejected = read_manifest(manifest, tmp_path / "out")
    assert rejected == []
    before = items[0].fingerprint(OPTIONS)
    template["ticker"]["color"] = "#330000"
    _write(jobs / "mine.json", json.dumps(template, indent=1))
    assert items[0].fingerprint(OPTIONS) != before
    edited = items[0].fingerprint(OPTIONS)
    (jobs / "logo.png").write_bytes((jobs / "logo.png").read_bytes() + b"\0")
    assert items[0].fingerprint(OPTIONS) != edited


def test_second_batch_on_same_folder_is_refused(tmp_path):
    import fcntl

    manifest = _write(tmp_path / "m.csv", "id,script\na,Hi.\n")
    (tmp_path / "out").mkdir()
    with (tmp_path / "out" / ".batch.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(AvatarError) as caught:
            run_batch(manifest, tmp_path / "out", OPTIONS)
    assert caught.value.key == "batch_outdir_busy"


@pytest.mark.parametrize(("name", "text", "key"), [
    ("m.txt", "id,script\na,b\n", "batch_manifest_format"),
    ("m.csv", "id,script,portait\na,b,c\n", "batch_unknown_columns"),
    ("m.csv", "id,script,script\na,b,c\n", "batch_repeated_columns"),
    ("m.csv", "id,script\n", "batch_manifest_empty"),
])
def test_unusable_manifest_is_an_error(tmp_path, name, text, key):
    with pytest.raises(AvatarError) as caught:
        run_batch(_write(tmp_path / name, text), tmp_path / "out", OPTIONS)
    assert caught.value.key == key
    # Nothing is created for a manifest that cannot be used.
    assert not (tmp_path / "out").exists()


def test_manifest_not_utf8_is_named(tmp_path):
    manifest = tmp_path / "gbk.csv"
    manifest.write_bytes("id,script\na,你好。\n".encode("gbk"))
    with pytest.raises(AvatarError) as caught:
        read_manifest(manifest, tmp_path / "out")
    assert caught.value.key == "batch_manifest_not_utf8"
    assert "CSV UTF-8" in caught.value.message("en")


def test_bad_json_line_rejects_only_that_row(tmp_path):
    manifest = _write(tmp_path / "m.jsonl", '{"id": "ok", "script": "Hi."}\n{"id": "broken", \n[1, 2]\n')
    items, rejected = read_manifest(manifest, tmp_path / "out")
    assert [item.id for item in items] == ["ok"]
    assert _reasons(rejected) == {2: "batch_row_not_json", 3: "batch_row_not_json"}


# ---- rendering


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Two items and one that fails (a portrait without a face), rendered by two worker processes."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("batch")
    Image.new("RGB", (300, 300), (90, 120, 150)).save(folder / "wall.png")
    manifest = _write(folder / "jobs.csv", "\n".join([
        "id,script,portrait,output,layout,headline",
        "zh1,大家好，欢迎收看。,,,vertical,",
        "en1,Good evening. Here is the news.,,news/en1.mp4,news,Evening news",
        "noface,This portrait has no face.,wall.png,,,",
    ]) + "\n")
    started = time.perf_counter()
    report = run_batch(manifest, folder / "out", OPTIONS)
    return folder, manifest, report, time.perf_counter() - started


def test_batch_renders_items_and_reports_failures(rendered):
    folder, _, report, _ = rendered
    assert [(item.id, item.status) for item in report.items] == [("zh1", "done"), ("en1", "done"),
                                                                  ("noface", "failed")]
    assert report.items[2].key == "no_face"
    for video in (folder / "out" / "zh1.mp4", folder / "out" / "news" / "en1.mp4"):
        info = probe(video)
        timeline = json.loads(video.with_suffix(".timeline.json").read_text(encoding="utf-8"))
        assert info.video_codec == "h264"
        assert info.audio_codec == "aac"
        assert (info.width, info.height) == {"zh1": (144, 256), "en1": (256, 144)}[video.stem]
        assert timeline["layout"] == {"zh1": "vertical", "en1": "news"}[video.stem]
        assert abs(info.video_duration - timeline["duration_seconds"]) <= 1 / 25 + 1e-6
        assert timeline["batch_id"] == video.stem
    status = json.loads((folder / "out" / "batch_status.json").read_text(encoding="utf-8"))
    assert status["summary"] == {"done": 2, "skipped": 0, "failed": 1, "rejected": 0, "pending": 0}
    csv_text = (folder / "out" / "batch_status.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("row,id,status")
    assert "no_face" in csv_text
    # Both workers were used.
    assert len({item.worker for item in report.items}) >= 2
    # No temporary file is left with or without the final name.
    assert not [path for path in (folder / "out").rglob(".*.part*")]


def test_rerun_skips_done_redoes_stale(rendered):
    folder, manifest, report, first_seconds = rendered
    before = (folder / "out" / "zh1.mp4").stat().st_mtime_ns
    again = run_batch(manifest, folder / "out", OPTIONS)
    assert [item.status for item in again.items] == ["skipped", "skipped", "failed"]
    assert (folder / "out" / "zh1.mp4").stat().st_mtime_ns == before

    # A video cut short (its header intact, its data not) and an edited script are rendered
    # again; the untouched item is skipped.
    video = folder / "out" / "news" / "en1.mp4"
    data = video.read_bytes()
    video.write_bytes(data[: len(data) * 7 // 10])
    edited = _write(folder / "edited.csv", manifest.read_text(encoding="utf-8").replace("欢迎收看", "欢迎回来"))
    third = run_batch(edited, folder / "out", OPTIONS)
    assert [item.status for item in third.items] == ["done", "done", "failed"]
    assert probe(video).video_duration > 1.0
    # Back to the original script: rendered again, so the module's outputs match the manifest.
    fourth = run_batch(manifest, folder / "out", OPTIONS)
    assert [item.status for item in fourth.items] == ["done", "skipped", "failed"]


def test_outputs_match_across_worker_counts_and_ray(rendered, tmp_path, monkeypatch):
    """Durations, phoneme timing and decoded frames are the same with 1 worker, 2 workers and Ray."""
    folder, manifest, _, _ = rendered
    single = run_batch(manifest, tmp_path / "single", BatchOptions(**{**OPTIONS.__dict__, "workers": 1}))
    assert [item.status for item in single.items] == ["done", "done", "failed"]
    # A real cluster on this machine, started as an operator would, with Ray's token authentication.
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    port = _free_port()
    head = subprocess.run([str(Path(sys.executable).with_name("ray")), "start", "--head", f"--port={port}",
                           "--node-ip-address=127.0.0.1", "--num-cpus=2", "--include-dashboard=false",
                           "--disable-usage-stats"], capture_output=True, text=True, timeout=120)
    assert head.returncode == 0, head.stderr[-2000:]
    try:
        on_ray = run_batch(manifest, tmp_path / "ray", BatchOptions(**{**OPTIONS.__dict__,
                                                                       "ray_address": f"127.0.0.1:{port}"}))
    finally:
        subprocess.run([str(Path(sys.executable).with_name("ray")), "stop", "--force"], capture_output=True,
                       timeout=120)
    assert [item.status for item in on_ray.items] == ["done", "done", "failed"]
    assert on_ray.items[2].key == "no_face"
    for relative in ("zh1.mp4", "news/en1.mp4"):
        videos = [folder / "out" / relative, tmp_path / "single" / relative, tmp_path / "ray" / relative]
        timelines = [_timing(video) for video in videos]
        assert timelines[0] == timelines[1] == timelines[2]
        hashes = [_frame_hashes(video) for video in videos]
        assert hashes[0] == hashes[1] == hashes[2]


def test_killed_worker_retried(tmp_path):
    manifest = _write(tmp_path / "m.jsonl", json.dumps({"id": "long", "script": "这是一段用来测试的较长文稿。" * 6})
                      + "\n")
    process = subprocess.Popen([sys.executable, "-m", "avatar.cli", "--ui-lang", "en", "batch", str(manifest),
                                "-o", str(tmp_path / "out"), "--size", "256", "--refiner", "none"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Kill the first worker process once it has started rendering.
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        victim = next(iter(_workers(process.pid)), None)
        time.sleep(0.5)
    assert victim is not None
    time.sleep(4)
    os.kill(victim, signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    assert "1 rendered" in out
    status = json.loads((tmp_path / "out" / "batch_status.json").read_text(encoding="utf-8"))
    assert status["items"][0]["status"] == "done"


def test_interrupt_removes_partial_files(tmp_path):
    manifest = _write(tmp_path / "m.jsonl", json.dumps({"id": "long", "script": "这是一段用来测试中断的文稿。" * 8})
                      + "\n")
    # SIG_DFL: a shell starts background jobs with SIGINT ignored, and Python would keep that.
    process = subprocess.Popen([sys.executable, "-m", "avatar.cli", "--ui-lang", "en", "batch", str(manifest),
                                "-o", str(tmp_path / "out"), "--size", "256", "--refiner", "none"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list((tmp_path / "out").glob(".long.*.part.mp4")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Interrupted" in err
    assert [path.name for path in (tmp_path / "out").glob(".*")] == [".batch.lock"]
    assert not (tmp_path / "out" / "long.mp4").exists()
    status = json.loads((tmp_path / "out" / "batch_status.json").read_text(encoding="utf-8"))
    assert [item["status"] for item in status["items"]] == ["pending"]


def test_cli_check_and_exit_status(rendered, capsys, english_messages):
    folder, manifest, _, _ = rendered
    bad = _write(folder / "bad.csv", "id,script\nok,Hello.\nok,Again.\n")
    status, out, err = run_cli(["batch", str(bad), "-o", str(folder / "check"), "--check"], capsys)
    assert status == 3
    assert "Row 3 repeats the id 'ok' of row 2" in err
    assert "Items that can be rendered: 1" in out
    status, _, err = run_cli(["batch", str(manifest), "-o", str(folder / "x"), "--workers", "0"], capsys)
    assert status == 2
    assert "--workers" in err
    status, _, err = run_cli(["batch", str(manifest), "-o", str(folder / "x"), "--ray-gpus", "-1"], capsys)
    assert status == 2
    assert "--ray-gpus" in err
    status, _, err = run_cli(["batch", str(folder / "nothing.csv"), "-o", str(folder / "x")], capsys)
    assert status == 2
    assert "nothing.csv" in err


def _timing(video: Path) -> dict:
    timeline = json.loads(video.with_suffix(".timeline.json").read_text(encoding="utf-8"))
    return {key: timeline[key] for key in ("num_samples", "duration_seconds", "num_frames", "seed", "segments",
                                           "phonemes")}


def _frame_hashes(video: Path) -> list[str]:
    from imageio_ffmpeg import get_ffmpeg_exe

    result = subprocess.run([get_ffmpeg_exe(), "-v", "error", "-i", str(video), "-map", "0:v", "-f", "framemd5", "-"],
                            capture_output=True, text=True, check=True)
    return [line.rsplit(",", 1)[-1].strip() for line in result.stdout.splitlines() if not line.startswith("#")]


def _workers(pid: int) -> list[int]:
    """Return the pool's worker processes among the children of `pid` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = []
    for child in children.read_text().split() if children.exists() else []:
        command = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"spawn_main" in command:
            found.append(int(child))
    return found


def _free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]
