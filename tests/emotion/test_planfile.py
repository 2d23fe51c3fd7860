"""The editable plan file: JSON and CSV round trips, overrides and clear errors."""

import csv
import json

import pytest

from avatar.errors import AvatarError
from emotion.planfile import read_plan, write_plan
from emotion.planner import plan_script

SCRIPT = "今天的天气很好。\n\n我们一起去公园散步吧！\n\n可惜下午开始下雨了。"


def edit_rows(path, changes: dict[int, tuple[str, str]]) -> None:
    """Change (emotion, intensity) of sentences by 1-based index in a JSON or CSV plan."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if int(row["index"]) in changes:
                row["emotion"], row["intensity"] = changes[int(row["index"])]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    for row in document["sentences"]:
        if row["index"] in changes:
            row["emotion"], row["intensity"] = changes[row["index"]][0], float(changes[row["index"]][1])
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_edited_plan_replaces_the_labels(tmp_path, suffix):
    path = tmp_path / f"plan{suffix}"
    write_plan(plan_script(SCRIPT, preset="news", labeller="lexicon"), path)
    edit_rows(path, {1: ("happy", "0.6"), 3: ("sad", "0.9")})
    plan = plan_script(SCRIPT, edited=read_plan(path))
    assert [(s.emotion, s.intensity, s.source) for s in plan.segments] == [
        ("happy", 0.6, "plan"), ("neutral", 0.0, "plan"), ("sad", 0.9, "plan")]


def test_csv_bom_and_json_preset(tmp_path):
    plan = plan_script(SCRIPT, preset="storytelling", labeller="lexicon")
    write_plan(plan, tmp_path / "plan.csv")
    write_plan(plan, tmp_path / "plan.json")
    raw = (tmp_path / "plan.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM so Excel shows the Chinese text
    assert "今天的天气很好。" in raw.decode("utf-8-sig")
    document = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert document["preset"] == "storytelling"
    assert read_plan(tmp_path / "plan.json").preset == "storytelling"
    assert [row["index"] for row in document["sentences"]] == [1, 2, 3]


def test_inline_tags_still_override_the_plan(tmp_path):
    path = tmp_path / "plan.json"
    write_plan(plan_script(SCRIPT, labeller="lexicon"), path)
    edit_rows(path, {2: ("sad", "0.5")})
    tagged = SCRIPT.replace("我们一起", "[happy:0.8] 我们一起")
    plan = plan_script(tagged, edited=read_plan(path))
    assert (plan.segments[1].emotion, plan.segments[1].intensity, plan.segments[1].source) == ("happy", 0.8, "override")


def test_plan_mismatch_names_sentence(tmp_path):
    path = tmp_path / "plan.json"
    write_plan(plan_script(SCRIPT, labeller="lexicon"), path)
    with pytest.raises(AvatarError) as caught:
        plan_script(SCRIPT.replace("公园", "海边"), edited=read_plan(path))
    assert caught.value.key == "plan_text_mismatch"
    assert caught.value.params["index"] == 2
    assert "海边" in caught.value.message("en")
    with pytest.raises(AvatarError) as caught:
        plan_script(SCRIPT + "\n\n最后一句。", edited=read_plan(path))
    assert caught.value.key == "plan_length_mismatch"


@pytest.mark.parametrize(("change", "key", "value"), [
    (("furious", "0.5"), "plan_bad_emotion", "furious"),
    (("happy", "1.5"), "plan_bad_intensity", "1.5"),
    (("happy", "lots"), "plan_bad_intensity", "lots"),
])
def test_bad_rows_name_the_row_and_the_value(tmp_path, change, key, value):
    path = tmp_path / "plan.csv"
    write_plan(plan_script(SCRIPT, labeller="lexicon"), path)
    edit_rows(path, {2: change})
    with pytest.raises(AvatarError) as caught:
        read_plan(path)
    assert caught.value.key == key
    assert caught.value.params["row"] == 2
    assert value in caught.value.message("zh")
    assert "第 2 行" in caught.value.message("zh")


def test_plan_saved_in_a_legacy_encoding_is_explained(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_bytes("index,text,emotion\n1,今天的天气很好。,开心\n".encode("gbk"))
    with pytest.raises(AvatarError) as caught:
        read_plan(path)
    assert caught.value.key == "plan_not_utf8"
    assert "UTF-8" in caught.value.message("zh")


def test_unreadable_and_missing_plans(tmp_path):
    with pytest.raises(AvatarError) as caught:
        read_plan(tmp_path / "none.json")
    assert caught.value.key == "plan_not_found"
    broken = tmp_path / "broken.json"
    broken.write_text('{"sentences": [', encoding="utf-8")
    with pytest.raises(AvatarError) as caught:
        read_plan(broken)
    assert caught.value.key == "plan_unreadable"
    assert "line 1" in caught.value.message("en")
