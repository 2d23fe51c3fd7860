"""The JSON timeline written beside each video (schema: docs/timeline.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from avatar.fileio import write_text_atomic
from avatar.timing import num_frames_for, sample_to_frame
from emotion.types import EmotionPlan
from voice.types import Utterance

# Bump the major number when a field changes meaning or disappears; the minor number when
# fields are added. Readers should check the major number.
TIMELINE_VERSION = "1.4"


def build_timeline(plan: EmotionPlan, utterance: Utterance, fps: int, extra: dict[str, Any] | None = None) -> dict:
    """Describe segments, phonemes and frame ranges of a render as plain JSON types."""
    rate = utterance.sample_rate
    segments = []
    # The pause actually inserted, which the emotion may have stretched: up to the next
    # segment's speech, or to the end of the audio after the last one.
    next_starts = [start for start, _ in utterance.segment_spans[1:]] + [len(utterance.waveform)]
    for segment, (start, end), next_start in zip(plan.segments, utterance.segment_spans, next_starts, strict=True):
        segments.append({
            "index": segment.index,
            "text": segment.text,
            "language": segment.language,
            "emotion": segment.emotion,
            "intensity": round(segment.intensity, 4),
            "valence": segment.valence,
            "arousal": segment.arousal,
            "source": segment.source,
            "paragraph": segment.paragraph,
            "start_sample": start,
            "end_sample": end,
            "pause_before_ms": segment.pause_before_ms,
            "pause_after_ms": round((next_start - end) * 1000 / rate),
            # end_frame is exclusive, like end_sample.
            "start_frame": sample_to_frame(start, rate, fps),
            "end_frame": sample_to_frame(end - 1, rate, fps) + 1 if end > start else sample_to_frame(start, rate, fps),
        })
    phonemes = [
        {"symbol": p.symbol, "start_sample": p.start, "end_sample": p.end, "segment": p.segment}
        for p in utterance.phonemes
    ]
    return {
        "version": TIMELINE_VERSION,
        "sample_rate": rate,
        "num_samples": len(utterance.waveform),
        "duration_seconds": round(utterance.duration, 4),
        "fps": fps,
        "num_frames": num_frames_for(len(utterance.waveform), rate, fps),
        "language": plan.language,
        "voice": utterance.voice,
        "preset": plan.preset,
        "ramp_ms": plan.ramp_ms,
        **(extra or {}),
        "failures": [{"segment": index, "reason": reason} for index, reason in utterance.failures],
        "segments": segments,
        "phonemes": phonemes,
    }


def write_timeline(path: Path, timeline: dict) -> None:
    """Write the timeline as indented UTF-8 JSON, atomically."""
    write_text_atomic(path, json.dumps(timeline, ensure_ascii=False, indent=1) + "\n")
