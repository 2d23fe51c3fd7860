"""`avatar plan`, `avatar analyze` and `avatar eval-emotion` on real files."""

import json

import pytest
from PIL import Image

from avatar.cli import main
from tests.conftest import run_cli

LINES = [
    "终于收到录取通知书了，太开心了！",
    "",
    "这群骗子太可恶了，气死我了！",
    "I'm so happy for you, congratulations!",
    "[sad] 今天天气不错。",
    "!!!",
]


pytestmark = pytest.mark.usefixtures("english_messages")


def test_analyze_json_prints_one_object_per_text_line(tmp_path, capsys):
    source = tmp_path / "posts.txt"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    status, out, _ = run_cli(["analyze", str(source), "--json"], capsys)
    assert status == 0
    rows = [json.loads(line) for line in out.splitlines()]
    # Empty lines and lines with nothing to read are skipped; line numbers point into the file.
    assert [row["line"] for row in rows] == [1, 3, 4, 5]
    assert [row["label"] for row in rows] == ["happy", "angry", "happy", "sad"]
    assert rows[3]["source"] == "override"
    assert rows[0]["source"] == "classifier"
    assert all({"text", "label", "intensity", "valence", "language"} <= set(row) for row in rows)
    assert rows[2]["language"] == "en"


def test_analyze_table_distribution_and_plot(tmp_path, capsys):
    source = tmp_path / "script.txt"
    source.write_text("终于收到录取通知书了，太开心了！这群骗子太可恶了，气死我了！\n", encoding="utf-8")
    chart = tmp_path / "chart.png"
    status, out, _ = run_cli(["analyze", str(source), "--plot", str(chart)], capsys)
    assert status == 0
    assert "Emotion distribution (texts: 2" in out
    happy_row = next(line for line in out.splitlines() if line.startswith("happy "))
    assert "50.0%" in happy_row
    with Image.open(chart) as image:
        assert image.format == "PNG"
        assert image.width > 400


def test_analyze_streams_a_long_file(tmp_path, capsys):
    source = tmp_path / "many.txt"
    source.write_text("太开心了！\n气死我了！\n" * 1500, encoding="utf-8")
    status, out, _ = run_cli(["analyze", str(source), "--json"], capsys)
    assert status == 0
    labels = [json.loads(line)["label"] for line in out.splitlines()]
    assert len(labels) == 3000
    assert labels[:2] == ["happy", "angry"]
    assert labels[-2:] == ["happy", "angry"]


@pytest.mark.parametrize(("content", "key"), [(None, "does not exist"), ("\n\n  \n", "no text to analyze")])
def test_analyze_bad_input(tmp_path, capsys, content, key):
    source = tmp_path / "input.txt"
    if content is not None:
        source.write_text(content, encoding="utf-8")
    status, _, err = run_cli(["analyze", str(source)], capsys)
    assert status == 2
    assert key in err
    assert "input.txt" in err


def test_analyze_rejects_non_utf8(tmp_path, capsys):
    source = tmp_path / "gbk.txt"
    source.write_bytes("今天很开心".encode("gbk"))
    status, _, err = run_cli(["analyze", str(source)], capsys)
    assert status == 2
    assert "UTF-8" in err


def test_plan_writes_json_and_csv(tmp_path, capsys):
    script = tmp_path / "script.txt"
    script.write_text("今天发布季度财报。\n\n公司利润大幅增长，员工们都非常高兴！", encoding="utf-8")
    for name in ("plan.json", "plan.csv"):
        status, out, _ = run_cli(["plan", str(script), "-o", str(tmp_path / name), "--preset", "news"], capsys)
        assert status == 0
        assert "preset news" in out
    document = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert document["preset"] == "news"
    assert len(document["sentences"]) == 2
    assert (tmp_path / "plan.csv").read_text(encoding="utf-8-sig").startswith("index,text,language,emotion")
    with pytest.raises(SystemExit) as caught:  # argparse rejects a preset outside its choices
        main(["plan", str(script), "--preset", "opera"])
    assert caught.value.code == 2
    assert "opera" in capsys.readouterr().err


def test_eval_emotion_on_a_labelled_file(tmp_path, capsys):
    labelled = tmp_path / "gold.jsonl"
    rows = [{"text": "终于收到录取通知书了，太开心了！", "label": "开心"},
            {"text": "这群骗子太可恶了，气死我了！", "label": "anger"},
            {"text": "I'm so happy for you, congratulations!", "label": "joy"}]
    labelled.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows), encoding="utf-8")
    status, out, _ = run_cli(["eval-emotion", str(labelled)], capsys)
    assert status == 0
    assert "macro-F1" in out
    assert "confusion" in out
    status, out, _ = run_cli(["eval-emotion", str(labelled), "--json"], capsys)
    assert json.loads(out)["macro_f1"] == 1.0
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\nhello\tfurious\n", encoding="utf-8")
    status, _, err = run_cli(["eval-emotion", str(bad)], capsys)
    assert status == 2
    assert "furious" in err


@pytest.mark.slow
def test_render_follows_an_edited_plan(tmp_path, capsys):
    script = tmp_path / "script.txt"
    script.write_text("Good evening.\n\nHere is the weather for tomorrow.", encoding="utf-8")
    plan = tmp_path / "plan.json"
    assert run_cli(["plan", str(script), "-o", str(plan), "--preset", "news"], capsys)[0] == 0
    document = json.loads(plan.read_text(encoding="utf-8"))
    document["sentences"][1]["emotion"], document["sentences"][1]["intensity"] = "surprised", 0.9
    plan.write_text(json.dumps(document), encoding="utf-8")
    video = tmp_path / "out.mp4"
    status, _, err = run_cli(["render", str(script), "-o", str(video), "--plan", str(plan), "--preset", "news",
                          "--size", "256"], capsys)
    assert status == 0, err
    timeline = json.loads(video.with_suffix(".timeline.json").read_text(encoding="utf-8"))
    assert timeline["preset"] == "news"
    assert timeline["ramp_ms"] == 600
    assert [(s["emotion"], s["intensity"], s["source"]) for s in timeline["segments"]][1] == ("surprised", 0.9, "plan")


def test_render_rejects_mismatched_plan(tmp_path, capsys):
    script = tmp_path / "script.txt"
    script.write_text("Good evening.", encoding="utf-8")
    plan = tmp_path / "plan.json"
    assert run_cli(["plan", str(script), "-o", str(plan)], capsys)[0] == 0
    script.write_text("Good morning.", encoding="utf-8")
    video = tmp_path / "out.mp4"
    status, _, err = run_cli(["render", str(script), "-o", str(video), "--plan", str(plan)], capsys)
    assert status == 2
    assert "Sentence 1" in err
    assert "Good morning." in err
    assert not video.exists()


def test_analyze_warns_about_lines_without_words(tmp_path, capsys):
    source = tmp_path / "posts.txt"
    source.write_text("😀😀\nHello, I am happy!\n!!!\n", encoding="utf-8")
    status, out, err = run_cli(["analyze", str(source), "--json"], capsys)
    assert status == 0
    assert len(out.splitlines()) == 1
    assert "Skipped 2 lines" in err
    assert "lines 1, 3" in err


def test_analyze_points_ssml_to_plan(tmp_path, capsys):
    source = tmp_path / "script.ssml"
    source.write_text("<speak><s>Good evening.</s></speak>\n", encoding="utf-8")
    status, out, err = run_cli(["analyze", str(source)], capsys)
    assert status == 2
    assert "avatar plan" in err
    assert out == ""


def test_plan_output_must_be_json_or_csv(tmp_path, capsys):
    script = tmp_path / "script.txt"
    script.write_text("Good evening.", encoding="utf-8")
    status, _, err = run_cli(["plan", str(script), "-o", str(tmp_path / "plan.txt")], capsys)
    assert status == 2
    assert ".json / .csv" in err


def test_analyze_into_a_closed_pipe_exits_quietly(tmp_path):
    import subprocess
    import sys

    source = tmp_path / "many.txt"
    source.write_text("This is the best day of my life!\n" * 3000, encoding="utf-8")
    command = f"{sys.executable} -m avatar.cli --ui-lang en analyze {source} | head -1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=300)
    assert result.returncode == 141
    assert "Error" not in result.stderr
    assert result.stdout.startswith("  line")
