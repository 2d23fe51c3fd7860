"""The studio through its HTTP API (gradio_client): plan, preview, rate, A/B, export, errors, concurrency."""

import sqlite3
import threading
from pathlib import Path

import pytest
from gradio_client import Client

from avatar.ratings import RatingStore
from studio_app import StudioConfig, launch, remove_old_jobs
from tests.studio.conftest import free_port

SCRIPT = "Hello there. This is a test of the studio."
EMPTY_PLAN = {"headers": ["text", "emotion", "intensity"], "data": [], "metadata": None}


def _client(config: StudioConfig) -> Client:
    return Client(f"http://127.0.0.1:{config.port}/", verbose=False)


def _preview(client: Client, script: str = SCRIPT, refiner: str = "none"):
    rows = client.predict(script, "vlog", "en", api_name="/plan")
    return client.predict(script, "default", None, None, "", 1.0, "vlog", rows, refiner, api_name="/preview")


def test_plan_table_rows(studio):
    rows = _client(studio).predict(SCRIPT, "news", "en", api_name="/plan")
    # API clients have no browser locale, so they get the studio's default language.
    assert rows["headers"] == ["文本", "情绪", "强度"]
    assert [row[0] for row in rows["data"]] == ["Hello there.", "This is a test of the studio."]


def test_chinese_plan_names_emotions_in_chinese_and_renders(studio):
    client = _client(studio)
    rows = client.predict("我今天太开心了！", "vlog", api_name="/plan")
    assert rows["data"][0][1] == "开心"
    video, _, _ = client.predict("我今天太开心了！", "default", None, None, "", 1.0, "vlog", rows, "none",
                                 api_name="/preview")
    assert Path(video).stat().st_size > 5_000


@pytest.mark.parametrize(("cell", "value", "expected"), [(1, "狂喜", "第 1 行的情绪 “狂喜”"),
                                                          (2, "strong", "第 1 行的强度 “strong”")])
def test_bad_plan_cell_names_row(studio, capfd, cell, value, expected):
    row = ["Hello there.", "happy", 0.5]
    row[cell] = value
    table = {"headers": ["文本", "情绪", "强度"], "data": [row], "metadata": None}
    with pytest.raises(Exception) as caught:
        _client(studio).predict(SCRIPT, "default", None, None, "", 1.0, "vlog", table, "none", api_name="/preview")
    assert expected in str(caught.value)
    assert "plan.json" not in str(caught.value)
    assert "Traceback" not in capfd.readouterr().err


def test_preview_then_rate_stores_row(studio):
    client = _client(studio)
    video, files, _ = _preview(client)
    assert Path(video).stat().st_size > 5_000
    assert sorted(Path(path).suffix for path in files) == [".json", ".mp4", ".srt"]
    status = client.predict(4, api_name="/rate")
    assert "Saved rating" in status or "已保存" in status
    rows = RatingStore(studio.ratings).all("score")
    row = rows[-1]
    assert row.score == 4
    assert row.settings["first_only"] is True
    assert row.settings["refiner"] == "none"
    assert row.frame_start == 0
    assert row.frame_end > 10
    assert Path(row.clip).is_file()
    assert Path(row.clip).is_relative_to(studio.outputs)
    assert len(row.rater) == 12
    with sqlite3.connect(studio.ratings) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_preview_in_news_layout(studio):
    from avatar.media import probe

    client = _client(studio)
    rows = client.predict(SCRIPT, "news", api_name="/plan")
    video, _, _ = client.predict(SCRIPT, "default", None, None, "", 1.0, "news", rows, "none", "news", "Evening news",
                                 api_name="/preview")
    info = probe(video)
    assert (info.width, info.height) == (448, 252)
    row = client.predict(5, api_name="/rate")
    assert "5" in row or "已保存" in row
    assert RatingStore(studio.ratings).all("score")[-1].settings["layout"] == "news"


def test_rating_before_render_is_refused(studio):
    with pytest.raises(Exception) as caught:
        _client(studio).predict(3, api_name="/rate")
    assert "渲染" in str(caught.value) or "Render" in str(caught.value)


def test_empty_script_error_in_ui_language(studio):
    client = _client(studio)
    with pytest.raises(Exception) as caught:
        client.predict("   ", "default", None, None, "", 1.0, "vlog", EMPTY_PLAN, "none", api_name="/preview")
    assert "文稿是空的" in str(caught.value)


def test_export_csv(studio):
    client = _client(studio)
    _preview(client)
    client.predict(2, api_name="/rate")
    exported = client.predict(api_name="/export")
    text = Path(exported).read_text(encoding="utf-8-sig")
    assert text.startswith("id,kind,clip")
    assert text.count("\n") >= 2


def test_three_sessions_render_at_once(studio):
    scripts = ["First presenter speaking now.", "Second presenter here today.", "Third one says goodbye."]
    results: dict[int, tuple] = {}
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            results[number] = _preview(_client(studio), scripts[number])
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors
    assert len({result[0] for result in results.values()}) == 3
    # Each session's subtitles contain its own script.
    for number, (_, files, _) in results.items():
        subtitles = next(Path(path) for path in files if path.endswith(".srt"))
        assert scripts[number].split()[0] in subtitles.read_text(encoding="utf-8")


def test_old_job_folders_removed(tmp_path):
    job = tmp_path / "session" / "job1"
    job.mkdir(parents=True)
    (job / "video.mp4").write_bytes(b"x")
    fresh = tmp_path / "session" / "job2"
    fresh.mkdir()
    import os
    import time

    old = time.time() - 48 * 3600
    os.utime(job, (old, old))
    rated = tmp_path / "session" / "rated"
    rated.mkdir()
    os.utime(rated, (old, old))
    assert remove_old_jobs(tmp_path, keep_hours=24, keep={rated.resolve()}) == 1
    assert not job.exists()
    assert fresh.exists()
    assert rated.exists()


def test_finetune_from_studio_ratings(tmp_path):
    """Ratings collected through the studio fine-tune a checkpoint into a new version offered for A/B."""
    from face_gan.data import extract_pairs
    from face_gan.models import GeneratorConfig
    from face_gan.refiner import save_generator
    from face_gan.train import TrainConfig, load_run_models, train

    videos = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "videos"
    if not videos.is_dir():
        pytest.skip(f"real test videos not found at {videos}")
    data = tmp_path / "clips"
    data.mkdir()
    (data / "emo_happy_eamm.mp4").symlink_to(videos / "emo_happy_eamm.mp4")
    checkpoints = tmp_path / "checkpoints"
    small = GeneratorConfig(widths=(8, 16, 16, 16, 16), embedding=8, condition=16)
    train(tmp_path / "run", [extract_pairs(videos / "emo_happy_eamm.mp4", max_frames=8)], [],
          TrainConfig(steps=1, batch_size=2, warmup_steps=0, generator=small.to_dict()))
    generator, discriminator, _, _ = load_run_models(tmp_path / "run")
    save_generator(generator, checkpoints / "face_gan.pt", discriminator)

    config = StudioConfig(port=free_port(), outputs=tmp_path / "outputs", ratings=tmp_path / "ratings.db",
                          profiles=tmp_path / "profiles", checkpoints=checkpoints, data=data)
    app = launch(config, block=False)
    try:
        client = _client(config)
        for score, script in enumerate(["One test.", "Two tests.", "Three tests.", "Four tests."], start=2):
            _preview(client, script)
            client.predict(score, api_name="/rate")
        log, compare = client.predict(3, 2, api_name="/finetune")
    finally:
        app.close()
    assert (checkpoints / "face_gan.ft1.pt").is_file()
    assert str(checkpoints / "face_gan.ft1.pt") in log
    assert compare["value"] == str(checkpoints / "face_gan.ft1.pt")
    assert [str(checkpoints / "face_gan.pt")] * 2 in compare["choices"]


def test_portrait_without_face_gets_guidance(studio, tmp_path):
    from gradio_client import handle_file
    from PIL import Image

    blank = tmp_path / "wall.png"
    Image.new("RGB", (400, 400), (120, 130, 140)).save(blank)
    with pytest.raises(Exception) as caught:
        _client(studio).predict("upload", handle_file(str(blank)), None, api_name="/portrait")
    assert "没有找到人脸" in str(caught.value)


def test_oversized_upload_gets_studio_message(studio, tmp_path):
    from gradio_client import handle_file

    # Over the studio's limit but under Gradio's hard cap, so the studio's own message is shown.
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG" + bytes((studio.max_upload_mb + 1) * 2**20))
    with pytest.raises(Exception) as caught:
        _client(studio).predict("upload", handle_file(str(big)), None, api_name="/portrait")
    assert f"超过 {studio.max_upload_mb} MB 的上限" in str(caught.value)


def test_portrait_preview_draws_landmarks(studio):
    preview = _client(studio).predict("default", None, None, api_name="/portrait")
    from PIL import Image

    with Image.open(preview) as image:
        assert image.width >= 256


def test_password_required_when_set(tmp_path):
    config = StudioConfig(port=free_port(), outputs=tmp_path / "outputs", ratings=tmp_path / "ratings.db",
                          profiles=tmp_path / "profiles", auth=("editor", "s3cret"))
    app = launch(config, block=False)
    try:
        from gradio_client.exceptions import AuthenticationError

        with pytest.raises(AuthenticationError):
            _client(config).predict(SCRIPT, "news", api_name="/plan")
        client = Client(f"http://127.0.0.1:{config.port}/", auth=("editor", "s3cret"), verbose=False)
        rows = client.predict(SCRIPT, "news", api_name="/plan")
        assert len(rows["data"]) == 2
    finally:
        app.close()


def test_plan_for_old_script_asks_to_plan_again(studio):
    client = _client(studio)
    rows = client.predict("今天天气很好。我们去公园散步吧！", "vlog", api_name="/plan")
    with pytest.raises(Exception) as caught:  # noqa: B017 - gradio_client reports the handler's gr.Error as AppError
        client.predict("今天天气非常好。我们去公园散步吧！", "default", None, None, "", 1.0, "vlog", rows, "none",
                       api_name="/preview")
    assert "请再点一次“分析情绪”" in str(caught.value)
    assert "avatar plan" not in str(caught.value)


def test_fractional_rating_rejected(studio):
    client = _client(studio)
    _preview(client)
    with pytest.raises(Exception) as caught:  # noqa: B017 - gradio_client reports the handler's gr.Error as AppError
        client.predict(3.6, api_name="/rate")
    assert "整数" in str(caught.value)
