"""End-to-end renders on real scripts and portraits, judged from the output files alone."""

import json
import re
from pathlib import Path

import numpy as np
import parselmouth
import pytest

from avatar.lipsync import decode_audio, measure_lipsync
from avatar.media import probe
from avatar.pipeline import RenderSettings, render_script

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present"),
]

ROUNDED = {"en": {"u", "uː", "ʊ", "oʊ", "ɔ", "ɔː", "o", "oː"}, "zh": {"u", "o", "ou", "uo", "ong", "v"}}
SPREAD = {"en": {"i", "iː", "ɪ", "eɪ", "e", "ɛ"}, "zh": {"i", "ie", "in", "ing", "ian", "ei"}}


def zh_excerpt(max_chars: int = 135) -> str:
    """The first curated news script, cut at a sentence end to about 30 s of speech."""
    rows = (DATA / "news_text" / "zh_news_scripts.tsv").read_text(encoding="utf-8").splitlines()[1:]
    text = rows[0].split("\t")[-1]
    sentences = re.findall(r"[^。！？]+[。！？]", text)
    excerpt = ""
    for sentence in sentences:
        if excerpt and len(excerpt) + len(sentence) > max_chars:
            break
        excerpt += sentence
    return excerpt


def render(tmp_path_factory, name, script, **settings):
    output = tmp_path_factory.mktemp(name) / f"{name}.mp4"
    result = render_script(script, output, RenderSettings(**settings))
    return result, measure_lipsync(output), json.loads(result.timeline.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def zh_render(tmp_path_factory):
    return render(tmp_path_factory, "zh", zh_excerpt(), portrait=DATA / "portraits" / "p02_real_frontal_man_mead60.png",
                  size=512)


@pytest.fixture(scope="module")
def en_render(tmp_path_factory):
    script = (DATA / "scripts_en" / "en03_story.txt").read_text(encoding="utf-8")
    return render(tmp_path_factory, "en", script, portrait=DATA / "portraits" / "p01_real_frontal_woman_people0.png",
                  size=384)


@pytest.fixture(scope="module")
def emotion_pair(tmp_path_factory):
    sentence = "We received the results of the city survey this morning, and the numbers are now in."
    portrait = DATA / "portraits" / "p09_real_neutral_sad1.png"
    return {label: render(tmp_path_factory, label, f"[{label}:1.0] {sentence}", portrait=portrait, size=384)
            for label in ("happy", "sad")}


def check_container(result, fps):
    info = probe(result.video)
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac"
    assert info.faststart
    assert abs(info.video_duration - info.audio_duration) <= 1.0 / fps + 1e-6
    assert info.num_frames == result.num_frames
    return info


def check_sidecars(result, timeline):
    assert timeline["version"].split(".")[0] == "1"
    position = 0
    for phoneme in timeline["phonemes"]:
        assert phoneme["start_sample"] == position
        position = phoneme["end_sample"]
    assert position == timeline["num_samples"]
    assert len(timeline["segments"]) == len(result.plan.segments)
    srt = result.subtitles.read_text(encoding="utf-8")
    assert srt.startswith("1\n00:00:")
    assert "-->" in srt


@pytest.mark.parametrize("which", ["zh_render", "en_render"])
def test_render_container_and_sidecars(which, request):
    result, _, timeline = request.getfixturevalue(which)
    assert 20.0 <= result.duration <= 45.0
    info = check_container(result, 25)
    check_sidecars(result, timeline)
    expected_long_side = 512 if which == "zh_render" else 384
    assert max(info.width, info.height) == expected_long_side


@pytest.mark.parametrize("which", ["zh_render", "en_render"])
def test_lip_sync_from_output(which, request):
    _, lipsync, _ = request.getfixturevalue(which)
    assert lipsync.frames_without_face == 0
    assert abs(lipsync.peak_lag_frames) <= 1
    assert lipsync.peak_correlation >= 0.4
    assert lipsync.silences, "expected pauses of 300 ms or more between sentences"
    assert lipsync.max_silence_opening_ratio is not None
    assert lipsync.max_silence_opening_ratio < 0.30


def vowel_frames(timeline, symbols):
    """Return the frame at the middle of each phoneme whose symbol (without tone or stress) is in `symbols`."""
    rate, fps = timeline["sample_rate"], timeline["fps"]
    frames = []
    for phoneme in timeline["phonemes"]:
        symbol = re.sub(r"[0-9ˈˌ]", "", phoneme["symbol"])
        if symbol in symbols and phoneme["end_sample"] - phoneme["start_sample"] >= rate // fps:
            frames.append(((phoneme["start_sample"] + phoneme["end_sample"]) // 2) * fps // rate)
    return np.array(frames, dtype=int)


@pytest.mark.parametrize(("which", "language"), [("zh_render", "zh"), ("en_render", "en")])
def test_rounded_vowels_narrower_than_spread(which, language, request):
    _, lipsync, timeline = request.getfixturevalue(which)
    rounded = vowel_frames(timeline, ROUNDED[language])
    spread = vowel_frames(timeline, SPREAD[language])
    assert len(rounded) >= 5
    assert len(spread) >= 5
    assert np.nanmean(lipsync.mouth_width[rounded]) < np.nanmean(lipsync.mouth_width[spread])


def speech_rate(timeline):
    """Phonemes per second of speech, pauses excluded."""
    speech = [p for p in timeline["phonemes"] if p["symbol"] != "sil"]
    samples = sum(p["end_sample"] - p["start_sample"] for p in speech)
    return len(speech) / (samples / timeline["sample_rate"])


def mean_f0(video, sample_rate):
    sound = parselmouth.Sound(decode_audio(video, sample_rate).astype(np.float64), sampling_frequency=sample_rate)
    pitch = sound.to_pitch(pitch_floor=60, pitch_ceiling=400).selected_array["frequency"]
    return float(np.mean(pitch[pitch > 0]))


def test_happy_voice_higher_and_faster(emotion_pair):
    (happy, _, happy_timeline), (sad, _, sad_timeline) = emotion_pair["happy"], emotion_pair["sad"]
    rate = happy_timeline["sample_rate"]
    assert mean_f0(happy.video, rate) >= 1.08 * mean_f0(sad.video, rate)
    assert speech_rate(happy_timeline) >= 1.08 * speech_rate(sad_timeline)


def speaking_frames(timeline, lipsync):
    """Frames of the sentence after the expression ramp (the first 0.5 s) has settled."""
    segment = timeline["segments"][0]
    start = segment["start_frame"] + timeline["fps"] // 2
    frames = np.arange(start, segment["end_frame"])
    return frames[frames < len(lipsync.lip_corner_height)]


def test_happy_face_lifts_corners_sad_raises_inner_brows(emotion_pair):
    (_, happy_sync, happy_timeline), (_, sad_sync, sad_timeline) = emotion_pair["happy"], emotion_pair["sad"]
    happy_frames = speaking_frames(happy_timeline, happy_sync)
    sad_frames = speaking_frames(sad_timeline, sad_sync)
    corners_happy = np.nanmean(happy_sync.lip_corner_height[happy_frames])
    corners_sad = np.nanmean(sad_sync.lip_corner_height[sad_frames])
    assert corners_happy - corners_sad >= 0.02
    brows_happy = np.nanmean(happy_sync.inner_brow_height[happy_frames])
    brows_sad = np.nanmean(sad_sync.inner_brow_height[sad_frames])
    assert brows_sad > brows_happy


def test_render_size_is_longer_side(tmp_path):
    portrait = DATA / "portraits" / "p04_real_glasses_man_d8.jpg"
    output = tmp_path / "wide.mp4"
    result = render_script("Short test.", output, RenderSettings(portrait=portrait, size=320, background="#203040"))
    info = probe(output)
    assert max(info.width, info.height) == 320
    assert info.width % 2 == 0
    assert info.height % 2 == 0
    assert (result.width, result.height) == (info.width, info.height)
