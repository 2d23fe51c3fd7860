"""Emotion stage: script text -> `EmotionPlan` (sentences, languages, labels, pauses)."""

from emotion.planner import parse_emotion, plan_script
from emotion.types import EMOTIONS, VALENCE_AROUSAL, EmotionPlan, Notice, Segment

__all__ = ["EMOTIONS", "VALENCE_AROUSAL", "EmotionPlan", "Notice", "Segment", "parse_emotion", "plan_script"]
