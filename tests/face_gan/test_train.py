"""The training loop: a few real steps, logs, samples, validation and resuming."""

import json

import pytest
import torch
from PIL import Image

from face_gan.refiner import save_generator
from face_gan.train import STATE_FILE, TrainConfig, load_run_generator, train

from .conftest import SMALL_GENERATOR


def _config(steps: int, **changes) -> TrainConfig:
    values = dict(steps=steps, batch_size=4, warmup_steps=2, log_every=2, sample_every=3, eval_every=3,
                  checkpoint_every=2, generator=SMALL_GENERATOR.to_dict())
    values.update(changes)
    return TrainConfig(**values)


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_steps_logs_samples_and_resume(tmp_path, happy_pairs, sad_pairs):
    run = tmp_path / "run"
    state = train(run, [happy_pairs], [sad_pairs], _config(4))
    assert state.step == 4
    assert (run / STATE_FILE).is_file()
    losses = _lines(run / "losses.jsonl")
    assert [row["step"] for row in losses] == [2, 4]
    assert "d" not in losses[0]  # warm-up: reconstruction only
    assert {"d", "g_adv", "fm", "fer", "l1"} <= set(losses[1])
    validation = _lines(run / "validation.jsonl")
    assert [row["step"] for row in validation] == [3, 4]
    assert {"warp_psnr", "gan_psnr", "warp_mouth_psnr", "gan_mouth_psnr"} <= set(validation[0])
    with Image.open(run / "samples" / "step_000003.png") as grid:
        # Four rows of pairs; columns warped | generated | real | mask.
        assert grid.size == (4 * 128, 4 * 128)

    # Resuming continues from the saved step with the saved weights.
    saved, _, _ = load_run_generator(run)
    state = train(run, [happy_pairs], [sad_pairs], _config(6))
    assert state.step == 6
    assert [row["step"] for row in _lines(run / "losses.jsonl")] == [2, 4, 6]
    resumed, _, _ = load_run_generator(run)
    assert any(not torch.equal(a, b) for a, b in zip(saved.state_dict().values(), resumed.state_dict().values(), strict=True))
    # A run that has reached its steps does nothing.
    assert train(run, [happy_pairs], [sad_pairs], _config(6)).step == 6
    assert len(_lines(run / "losses.jsonl")) == 3


def test_reconstruction_improves_on_a_small_set(tmp_path, happy_pairs):
    config = _config(40, warmup_steps=40, log_every=10, sample_every=1000, eval_every=1000, checkpoint_every=1000,
                     lr_generator=1e-3)
    train(tmp_path / "run", [happy_pairs], [], config)
    l1 = [row["l1"] for row in _lines(tmp_path / "run" / "losses.jsonl")]
    assert l1[-1] < l1[0] * 0.9, l1


def test_fine_tuning_starts_from_a_checkpoint(tmp_path, happy_pairs):
    train(tmp_path / "a", [happy_pairs], [], _config(2))
    generator, _, _ = load_run_generator(tmp_path / "a")
    save_generator(generator, tmp_path / "a.pt")
    # Zero steps of training: the run's generator is exactly the initial checkpoint.
    train(tmp_path / "b", [happy_pairs], [], _config(1, lr_generator=0.0, lr_discriminator=0.0), init=tmp_path / "a.pt")
    fine_tuned, _, _ = load_run_generator(tmp_path / "b")
    for a, b in zip(generator.state_dict().values(), fine_tuned.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_interrupt_saves_state_and_resume_keeps_logs_unique(tmp_path, happy_pairs):
    run = tmp_path / "run"

    def stop_at_three(step, total, losses):
        if step == 3:
            raise KeyboardInterrupt

    config = _config(6, log_every=1, checkpoint_every=100, eval_every=100, sample_every=100)
    with pytest.raises(KeyboardInterrupt):
        train(run, [happy_pairs], [], config, report=stop_at_three)
    # Step 3 finished and its loss was logged before the interrupt; the state was saved with it.
    _, state, _ = load_run_generator(run)
    assert state.step == 3
    train(run, [happy_pairs], [], config)
    assert [row["step"] for row in _lines(run / "losses.jsonl")] == [1, 2, 3, 4, 5, 6]
