"""Turn per-sentence emotion predictions into a plan that reads naturally over a whole script.

A classifier labels each sentence on its own, so a plain sequence of its labels flickers:
happy, neutral, happy, surprised within four sentences is not how a presenter behaves. The arc
is built in phases (`smooth`):

1. Context: each sentence's probabilities are mixed with its neighbours' within the paragraph.
2. Threshold: a label whose intensity stays below the preset's `threshold` falls back to the
   preset's baseline (a news anchor stays calm unless the content is strongly charged). The
   label already running stays until its intensity falls below `RELEASE_RATIO` of the threshold.
3. Hysteresis: one emotion replaces another only when its mixed probability beats the running
   label's by `switch_margin`.
4. Minimum duration: a run of one label shorter than `min_duration_s` (estimated from the text
   length before any audio exists) returns to the label before it, unless it is strongly
   charged (intensity >= `keep_short_above`).
5. Intensity: scaled by `gain`, smoothed within each run, and clipped to `max_intensity`.

Sentences with an explicit emotion (inline tag, SSML express-as, `--emotion`, an edited plan)
are never changed, and the running label restarts after them. The transition between two
labels is ramped in the `Performance` over the preset's `ramp_ms`, not cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emotion.types import EMOTIONS, VALENCE_AROUSAL

# Speaking rate used to estimate a sentence's duration before synthesis: characters per second
# for Chinese, words per second for English (news-reading rates of both voices at rate 1).
UNITS_PER_SECOND = {"zh": 4.5, "en": 2.6}
VALENCES = np.array([VALENCE_AROUSAL[label][0] for label in EMOTIONS])
# Expected valence of a sentence's mixed probabilities below which context counts as negative.
NEGATIVE_CONTEXT = -0.15
# A running emotion stays while its intensity is above this share of the preset's threshold.
RELEASE_RATIO = 0.6


@dataclass(frozen=True)
class StylePreset:
    """How far a performance may swing from its baseline.

    Attributes:
        name: preset id, as the CLI and studio show it.
        baseline: the label a sentence falls back to.
        baseline_intensity: intensity of that fallback (0 for neutral).
        threshold: minimum predicted intensity for a sentence to leave the baseline.
        gain: multiplier on predicted intensity.
        max_intensity: ceiling after the gain.
        context: weight of each neighbour's probabilities in phase 1 (own weight 1 - 2 * context).
        switch_margin: probability margin the new label needs to replace the running one.
        min_duration_s: shortest run of one label, in estimated seconds.
        keep_short_above: a shorter run survives when its intensity reaches this.
        ramp_ms: time over which the face moves from one emotion to the next.
    """

    name: str
    baseline: str
    baseline_intensity: float
    threshold: float
    gain: float
    max_intensity: float
    context: float
    switch_margin: float
    min_duration_s: float
    keep_short_above: float
    ramp_ms: int


PRESETS: dict[str, StylePreset] = {
    "news": StylePreset("news", "neutral", 0.0, threshold=0.6, gain=0.6, max_intensity=0.5, context=0.2,
                        switch_margin=0.15, min_duration_s=4.0, keep_short_above=0.8, ramp_ms=600),
    "vlog": StylePreset("vlog", "happy", 0.25, threshold=0.3, gain=1.0, max_intensity=0.85, context=0.2,
                        switch_margin=0.1, min_duration_s=2.5, keep_short_above=0.6, ramp_ms=300),
    "storytelling": StylePreset("storytelling", "neutral", 0.0, threshold=0.2, gain=1.25, max_intensity=1.0,
                                context=0.15, switch_margin=0.05, min_duration_s=2.0, keep_short_above=0.5,
                                ramp_ms=400),
}
DEFAULT_PRESET = "vlog"


@dataclass(frozen=True)
class SentenceEvidence:
    """Evidence about one sentence, as the arc reads it.

    Attributes:
        probabilities: over `EMOTIONS`; for a fixed sentence, one-hot on its label.
        intensity: predicted intensity, 0..1.
        paragraph: paragraph index; context does not cross paragraphs.
        units: characters (zh) or words (en), for the duration estimate.
        language: "zh" or "en".
        fixed: an explicit emotion that the arc must keep.
    """

    probabilities: tuple[float, ...]
    intensity: float
    paragraph: int
    units: int
    language: str
    fixed: bool = False


@dataclass(frozen=True)
class ArcDecision:
    """The arc's label for one sentence and whether the preset changed the classifier's label."""

    label: str
    intensity: float
    changed: bool


def smooth(evidence: Sequence[SentenceEvidence], preset: StylePreset) -> list[ArcDecision]:
    if not evidence:
        return []
    probabilities = np.array([item.probabilities for item in evidence], dtype=np.float64)
    own = [EMOTIONS[int(row.argmax())] for row in probabilities]

    # 1. Context within the paragraph.
    mixed = probabilities.copy()
    for i, item in enumerate(evidence):
        if item.fixed:
            continue
        neighbours = [j for j in (i - 1, i + 1)
                      if 0 <= j < len(evidence) and evidence[j].paragraph == item.paragraph and not evidence[j].fixed]
        if neighbours:
            mixed[i] = (1 - preset.context * len(neighbours)) * probabilities[i]
            mixed[i] += preset.context * probabilities[neighbours].sum(0)

    # 2-3. Threshold to the baseline, then hysteresis against the running label.
    labels: list[str] = []
    intensities: list[float] = []
    running, running_emotional = preset.baseline, False
    for i, item in enumerate(evidence):
        if item.fixed:
            labels.append(own[i])
            intensities.append(item.intensity)
            running, running_emotional = preset.baseline, False
            continue
        # A lively baseline (vlog's light smile) would jar inside a sad passage, so a sentence
        # whose context leans clearly negative falls back to neutral instead.
        fallback = preset.baseline if float(mixed[i] @ VALENCES) > NEGATIVE_CONTEXT else "neutral"
        candidate = EMOTIONS[int(mixed[i].argmax())]
        # Two thresholds: a new emotion must reach `threshold`, and a running one stays down to
        # `RELEASE_RATIO` of it, so intensity wavering around the threshold does not flicker.
        needed = preset.threshold * (RELEASE_RATIO if candidate == running and running_emotional else 1.0)
        emotional = candidate != "neutral" and item.intensity >= needed
        if not emotional:
            candidate = fallback
        elif running_emotional and candidate != running:
            gap = mixed[i, EMOTIONS.index(candidate)] - mixed[i, EMOTIONS.index(running)]
            if gap < preset.switch_margin:
                candidate = running
        labels.append(candidate)
        strength = min(1.0, item.intensity * preset.gain)
        if emotional:
            # The baseline's own label (vlog's happy) still shows at full strength when the text is happy.
            intensities.append(max(strength, preset.baseline_intensity) if candidate == preset.baseline else strength)
        elif candidate == "neutral":
            intensities.append(0.0)
        else:
            intensities.append(preset.baseline_intensity)
        running_emotional = emotional
        running = candidate

    # 4. Runs too short to read as a mood go back to the label before them.
    for start, end in _runs(labels, evidence):
        label = labels[start]
        if label == preset.baseline or any(evidence[k].fixed for k in range(start, end)):
            continue
        seconds = sum(evidence[k].units / UNITS_PER_SECOND.get(evidence[k].language, 3.0) for k in range(start, end))
        if seconds >= preset.min_duration_s or max(intensities[start:end]) >= preset.keep_short_above:
            continue
        before = labels[start - 1] if start > 0 and not evidence[start - 1].fixed else preset.baseline
        for k in range(start, end):
            labels[k] = before
            intensities[k] = intensities[start - 1] if before != preset.baseline else preset.baseline_intensity

    # 5. Smooth intensity within each run and clip it.
    smoothed = list(intensities)
    for start, end in _runs(labels, evidence):
        if end - start < 2 or evidence[start].fixed:
            continue
        for k in range(start, end):
            window = intensities[max(start, k - 1) : min(end, k + 2)]
            smoothed[k] = 0.5 * intensities[k] + 0.5 * sum(window) / len(window)
    decisions = []
    for i, item in enumerate(evidence):
        intensity = smoothed[i] if item.fixed else min(preset.max_intensity, smoothed[i])
        if labels[i] == "neutral":
            intensity = 0.0
        decisions.append(ArcDecision(labels[i], round(float(intensity), 3), changed=labels[i] != own[i]))
    return decisions


def _runs(labels: list[str], evidence: Sequence[SentenceEvidence]) -> list[tuple[int, int]]:
    """Half-open [start, end) ranges of equal labels; fixed sentences form runs of their own."""
    runs, start = [], 0
    for i in range(1, len(labels) + 1):
        if (i == len(labels) or labels[i] != labels[start]
                or evidence[i].fixed or evidence[start].fixed):
            runs.append((start, i))
            start = i
    return runs
