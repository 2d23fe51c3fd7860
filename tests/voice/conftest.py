"""Shared fixtures for the voice tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from emotion.types import VALENCE_AROUSAL, Segment

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"




@pytest.fixture
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.skip(f"real test data not found at {DATA_DIR}")
    return DATA_DIR


def make_segment(index: int, text: str, language: str, emotion: str, intensity: float = 1.0, pause_ms: int = 0):
    """Build a Segment directly, as the emotion planner would."""
    valence, arousal = VALENCE_AROUSAL[emotion]
    return Segment(
        index=index,
        text=text,
        language=language,
        emotion=emotion,
        intensity=intensity,
        valence=valence * intensity,
        arousal=arousal * intensity,
        source="override",
        pause_after_ms=pause_ms,
    )
