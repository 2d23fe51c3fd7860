"""A long Chinese article: audio and video stay in sync from the first sentence to the last.

The 5-minute render with its memory and speed is in bench/long_script.py. This test renders
about 100 seconds at a small size, so that it fits the suite's time.
"""

import re
from pathlib import Path

import pytest

from avatar.lipsync import measure_lipsync_window
from avatar.media import probe
from avatar.pipeline import RenderSettings, render_script

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present"),
]
WINDOW = 12.0


def long_article(max_chars: int = 450) -> str:
    """The first THUCNews article with enough text, cut at a sentence end."""
    for line in (DATA / "news_text" / "zh_thucnews_800.tsv").read_text(encoding="utf-8").splitlines():
        text = line.split("\t", 1)[-1]
        if len(text) < max_chars:
            continue
        article = ""
        for sentence in re.findall(r"[^。！？]+[。！？]", text):
            if article and len(article) + len(sentence) > max_chars:
                break
            article += sentence
        return article
    raise AssertionError("no article long enough")


def test_no_drift_from_start_to_end(tmp_path):
    output = tmp_path / "article.mp4"
    result = render_script(long_article(), output, RenderSettings(size=256, refiner="none", preset="news"))
    assert result.duration > 80

    # The streams end together: video and audio within one frame of each other and of the timeline.
    info = probe(output)
    assert abs(info.video_duration - result.duration) <= 1 / 25 + 1e-6
    assert abs(info.audio_duration - result.duration) <= 1 / 25 + 1e-6

    lags = {}
    for label, start in (("start", 0.0), ("middle", result.duration / 2 - WINDOW / 2),
                         ("end", result.duration - WINDOW)):
        report = measure_lipsync_window(output, start, WINDOW, tmp_path)
        assert report.peak_correlation > 0.3, (label, report.peak_correlation)
        lags[label] = report.peak_lag_frames
    assert all(abs(lag) <= 1 for lag in lags.values()), lags
    # Drift would show as a lag that grows along the video.
    assert abs(lags["end"] - lags["start"]) <= 1, lags
