"""The conditional face-expression GAN: data from video, models, training, rendering with it.

Importing this package is cheap (no torch); the modules below import what they need.
"""

# Refiners `avatar render --refiner` accepts. "gan" becomes the default only
# once bench/face_gan.py shows the shipped checkpoint beating warp-only.
REFINERS = ("gan", "none")
DEFAULT_REFINER = "none"

# Whole clips of ../shared/data/videos held out for validation: a frontal talking
# clip and a talking clip from another source, so validation measures speech
# mouths of people the generator never saw.
DEFAULT_HOLDOUT = ("v01_en_hdtf_aoc_8s", "talk_retalking_5")
# Fine-tuning steps on a creator's clip: about five minutes on two CPU cores.
DEFAULT_FINE_TUNE_STEPS = 300
