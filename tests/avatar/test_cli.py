"""CLI behaviour on bad input: one readable line in the UI language, exit status 2, nothing written."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from avatar import i18n
from avatar.cli import main
from tests.conftest import run_cli

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


pytestmark = pytest.mark.usefixtures("english_messages")


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "script.txt"
    path.write_text("Hello there. This is a short test.\n", encoding="utf-8")
    return path


def test_missing_script(tmp_path, capsys):
    status, _, err = run_cli(["render", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o.mp4")], capsys)
    assert status == 2
    assert "nope.txt" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o.mp4").exists()


def test_non_utf8_script(tmp_path, capsys):
    path = tmp_path / "gbk.txt"
    path.write_bytes("你好，世界。".encode("gbk"))
    status, _, err = run_cli(["render", str(path), "-o", str(tmp_path / "o.mp4")], capsys)
    assert status == 2
    assert "UTF-8" in err


def test_empty_script(tmp_path, capsys):
    path = tmp_path / "empty.txt"
    path.write_text(" \n😀\n", encoding="utf-8")
    status, _, err = run_cli(["render", str(path), "-o", str(tmp_path / "o.mp4")], capsys)
    assert status == 2
    assert "nothing to speak" in err


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [("--size", "16", "Invalid size 16"), ("--fps", "0", "Invalid frame rate 0"),
     ("--emotion", "joyful", "Unknown emotion 'joyful'"), ("--background", "#12", "Invalid colour")],
)
def test_bad_option(script, tmp_path, capsys, option, value, fragment):
    status, _, err = run_cli(["render", str(script), "-o", str(tmp_path / "o.mp4"), option, value], capsys)
    assert status == 2
    assert fragment in err


def test_wrong_output_suffix(script, tmp_path, capsys):
    status, _, err = run_cli(["render", str(script), "-o", str(tmp_path / "o.avi")], capsys)
    assert status == 2
    assert ".mp4" in err


def test_portrait_without_face(script, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((400, 300, 3), 200, np.uint8)).save(blank)
    output = tmp_path / "o.mp4"
    status, _, err = run_cli(["render", str(script), "-o", str(output), "--portrait", str(blank)], capsys)
    assert status == 2
    assert "blank.png" in err
    assert "No face" in err
    assert not output.exists()
    assert not list(tmp_path.glob("*.srt"))


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present")
def test_anime_portrait_gets_guidance_or_renders(script, tmp_path, capsys):
    """The anime portrait either renders or fails with the no-face guidance, never a traceback."""
    output = tmp_path / "o.mp4"
    portrait = DATA / "portraits" / "p10_anime_girl_danbooru1.png"
    status, _, err = run_cli(["render", str(script), "-o", str(output), "--portrait", str(portrait), "--size", "256"],
                         capsys)
    assert "Traceback" not in err
    if status == 0:
        assert output.stat().st_size > 0
    else:
        assert status == 2
        assert "p10_anime_girl_danbooru1.png" in err


def test_chinese_messages(tmp_path, capsys):
    i18n.set_language(None)
    status, _, err = run_cli(["--ui-lang", "zh", "render", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o.mp4")],
                         capsys)
    assert status == 2
    assert "找不到文件" in err


def test_locale_selects_chinese(monkeypatch, tmp_path, capsys):
    i18n.set_language(None)
    monkeypatch.delenv("AVATAR_UI_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    status, _, err = run_cli(["say", "", "-o", str(tmp_path / "o.wav")], capsys)
    assert status == 2
    assert "没有可朗读的文字" in err


def test_say_writes_wav(tmp_path, capsys):
    output = tmp_path / "hello.wav"
    status, out, err = run_cli(["say", "Good morning, everyone.", "-o", str(output), "--emotion", "happy:0.8"], capsys)
    assert status == 0, err
    samples, rate = soundfile.read(output)
    assert rate == 22050
    assert samples.ndim == 1
    assert len(samples) / rate > 0.8
    assert np.abs(samples).max() > 0.05
    assert str(output) in out


def test_say_chinese(tmp_path, capsys):
    output = tmp_path / "zh.wav"
    status, _, err = run_cli(["say", "今天气温25℃，湿度60%。", "-o", str(output)], capsys)
    assert status == 0, err
    samples, rate = soundfile.read(output)
    assert rate == 24000
    assert len(samples) / rate > 1.5


def test_output_same_as_script_rejected(tmp_path, capsys):
    script = tmp_path / "talk.mp4"
    script.write_text("Hello there.", encoding="utf-8")
    status, _, err = run_cli(["render", str(script), "-o", str(script)], capsys)
    assert status == 2
    assert "overwrite" in err
    assert script.read_text(encoding="utf-8") == "Hello there."


def test_sidecar_same_as_script_rejected(tmp_path, capsys):
    script = tmp_path / "talk.srt"
    script.write_text("Hello there.", encoding="utf-8")
    status, _, err = run_cli(["render", str(script), "-o", str(tmp_path / "talk.mp4")], capsys)
    assert status == 2
    assert "talk.srt" in err
    assert script.read_text(encoding="utf-8") == "Hello there."


def test_output_folder_rejected(script, tmp_path, capsys):
    folder = tmp_path / "video.mp4"
    folder.mkdir()
    status, _, err = run_cli(["render", str(script), "-o", str(folder)], capsys)
    assert status == 2
    assert "is a folder" in err


def test_script_folder_rejected(tmp_path, capsys):
    status, _, err = run_cli(["render", str(tmp_path), "-o", str(tmp_path / "o.mp4")], capsys)
    assert status == 2
    assert "is a folder" in err


def test_unwritable_output_rejected(script, capsys):
    status, _, err = run_cli(["say", "Hi.", "-o", "/proc/avatar-test.wav"], capsys)
    assert status == 2
    assert "Cannot write /proc/avatar-test.wav" in err


def test_english_voice_on_chinese_rejected(tmp_path, capsys):
    path = tmp_path / "zh.txt"
    path.write_text("今天天气很好。", encoding="utf-8")
    status, _, err = run_cli(["render", str(path), "-o", str(tmp_path / "o.mp4"), "--lang", "en"], capsys)
    assert status == 2
    assert "cannot read any of this script's text" in err


@pytest.mark.parametrize(("value", "fragment"), [("-1", "Invalid seed -1"), ("4294967296", "Invalid seed 4294967296")])
def test_bad_seed(script, tmp_path, capsys, value, fragment):
    status, _, err = run_cli(["render", str(script), "-o", str(tmp_path / "o.mp4"), "--seed", value], capsys)
    assert status == 2
    assert fragment in err


def test_colour_word_background(script, tmp_path, capsys):
    status, _, err = run_cli(["render", str(script), "-o", str(tmp_path / "o.mp4"), "--background", "red"], capsys)
    assert status == 2
    assert "#RRGGBB" in err


def test_options_after_command(tmp_path, capsys):
    status, _, err = run_cli(["render", "-v", "--ui-lang", "zh", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o.mp4")],
                         capsys)
    assert status == 2
    assert "找不到文件" in err


def test_other_language_sentence_warns_once(tmp_path, capsys):
    output = tmp_path / "mixed.wav"
    status, _, err = run_cli(["say", "今天天气很好。Good.", "-o", str(output)], capsys)
    assert status == 0, err
    assert err.count("Sentence 2 is English") == 1


def test_failed_sentence_warned_render_kept(tmp_path, capsys):
    script = tmp_path / "fail.txt"
    script.write_text("好的。\n\n呣。\n\n谢谢大家。", encoding="utf-8")
    output = tmp_path / "fail.mp4"
    status, _, err = run_cli(["render", str(script), "-o", str(output), "--size", "256"], capsys)
    assert status == 0, err
    assert "Sentence 2 could not be spoken" in err
    assert output.stat().st_size > 0
    timeline = json.loads(output.with_suffix(".timeline.json").read_text(encoding="utf-8"))
    assert [failure["segment"] for failure in timeline["failures"]] == [1]


def test_espeak_voice_reads_korean(tmp_path, capsys):
    output = tmp_path / "ko.wav"
    status, out, err = run_cli(["say", "안녕하세요. 반갑습니다.", "-o", str(output), "--voice", "espeak-ko"], capsys)
    assert status == 0, err
    samples, rate = soundfile.read(output)
    assert rate == 22050
    assert len(samples) / rate > 1.0


def test_korean_without_voice_suggests_espeak(tmp_path, capsys):
    status, _, err = run_cli(["say", "안녕하세요.", "-o", str(tmp_path / "ko.wav")], capsys)
    assert status == 2
    assert "--voice espeak-" in err


def test_voices_lists_all(capsys):
    status, out, _ = run_cli(["voices"], capsys)
    assert status == 0
    ids = [line.split()[0] for line in out.splitlines()[1:]]
    assert ids[:2] == ["zh-baker", "en-joe"]
    assert "espeak-ko" in ids
    assert "espeak-cmn" in ids
    assert "GPL-3.0" in out


def test_unknown_voice_rejected(script, tmp_path, capsys):
    status, _, err = run_cli(["say", "Hi.", "-o", str(tmp_path / "o.wav"), "--voice", "espeak-xx"], capsys)
    assert status == 2
    assert "espeak-xx" in err


def test_normalize_prints_spoken_text(capsys):
    status, out, _ = run_cli(["normalize", "气温-5℃，GDP增长5.2%"], capsys)
    assert status == 0
    assert out.strip() == "气温零下五摄氏度，吉迪皮增长百分之五点二。"


def test_normalize_english(capsys):
    status, out, _ = run_cli(["normalize", "It costs $1,200 at 10:30.", "--lang", "en"], capsys)
    assert status == 0
    assert "one thousand two hundred dollars" in out
    assert "$" not in out


def test_loudness_target_applied(tmp_path, capsys):
    from voice.loudness import integrated_loudness

    output = tmp_path / "quiet.wav"
    status, _, err = run_cli(["say", "This sentence is quiet on purpose.", "-o", str(output), "--loudness", "-30"], capsys)
    assert status == 0, err
    samples, rate = soundfile.read(output, dtype="float32")
    assert abs(integrated_loudness(samples, rate) - (-30.0)) < 0.5


@pytest.mark.parametrize(
    ("arguments", "english", "chinese"),
    [
        (["train-gan", "--steps", "abc"], "invalid int value: 'abc'", "不是整数：'abc'"),
        (["render", "s.txt", "-o", "o.mp4", "--refiner", "bogus"], "invalid choice: 'bogus'", "无效的选项值：'bogus'"),
        (["render"], "the following arguments are required", "缺少必需的参数"),
    ],
)
def test_usage_errors_one_translated_line(arguments, english, chinese, capsys):
    for language, expected in (("en", english), ("zh", chinese)):
        with pytest.raises(SystemExit) as caught:
            main(["--ui-lang", language, *arguments])
        assert caught.value.code == 2
        err = capsys.readouterr().err
        assert expected in err
        assert len(err.strip().splitlines()) == 1
        assert "--help" in err


def test_speed_changes_duration(tmp_path, capsys):
    durations = {}
    for speed in ("0.7", "1.5"):
        status, out, err = run_cli(["say", "Good evening, here is the news for today.", "-o",
                                    str(tmp_path / f"{speed}.wav"), "--speed", speed], capsys)
        assert status == 0, err
        import soundfile

        durations[speed] = soundfile.info(str(tmp_path / f"{speed}.wav")).duration
    assert durations["0.7"] > durations["1.5"] * 1.5


def test_speed_out_of_range_rejected_before_work(tmp_path, capsys):
    (tmp_path / "s.txt").write_text("Hello.", encoding="utf-8")
    status, _, err = run_cli(["render", str(tmp_path / "s.txt"), "-o", str(tmp_path / "o.mp4"), "--speed", "0.1"],
                             capsys)
    assert status == 2
    assert "0.5 to 2.0" in err
    assert not (tmp_path / "o.mp4").exists()
