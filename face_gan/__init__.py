"""The conditional face-expression GAN: data from video, models, training, rendering with it.

Importing this package is cheap (no torch); the modules below import what they need.
"""

# Refiners `avatar render --refiner` accepts. The default is "gan" because the shipped
# checkpoint beats warp-only and a blur control on held-out video (bench/face_gan.py).
REFINERS = ("gan", "none")
DEFAULT_REFINER = "gan"

# Whole clips of ../shared/data/videos held out for validation: a frontal talking
# clip and a talking clip from another source, so validation measures speech
# mouths of people the generator never saw.
DEFAULT_HOLDOUT = ("v01_en_hdtf_aoc_8s", "talk_retalking_5")
# Fine-tuning steps on a creator's clip; a step (batch 8) takes about 1 s on two CPU cores.
DEFAULT_FINE_TUNE_STEPS = 300
