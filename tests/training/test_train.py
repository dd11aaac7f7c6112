"""The trainer with tiny models: every stage and phase, resuming, overfitting one batch."""

from __future__ import annotations

import json

import torch

from emocast.diffusion.config import tiny_config as tiny_network
from emocast.diffusion.net import Net
from training.train import Trainer

ALL_STAGES = [
    {"name": "stage1", "stage": 1, "steps": 1},
    {"name": "stage2_phase1", "stage": 2, "phase": 1, "steps": 1, "mixture": {"wild": 1, "mead": 1, "hdtf": 1}},
    {"name": "stage2_phase2", "stage": 2, "phase": 2, "steps": 1, "mixture": {"mead": 1, "hdtf": 1}},
    {"name": "stage2_phase3", "stage": 2, "phase": 3, "steps": 1, "mixture": {"hdtf": 1}},
]


def _changed(before: dict, after: dict) -> set[str]:
    return {name.split(".")[0] + (".temporal" if ("motion_modules" in name or "audio_modules" in name) else "")
            for name in before if not torch.equal(before[name], after[name])}


def test_every_stage_and_phase_one_step(mini_dataset, make_config, fresh_dir, one_thread):
    config = make_config(mini_dataset[0], ALL_STAGES, optim={"ema_decay": 0.9})
    trainer = Trainer(config, output_dir=fresh_dir)
    trainer.setup()
    initial = {k: v.clone() for k, v in trainer.components.net.state_dict().items()}
    results = trainer.run()
    assert [r.name for r in results] == [s["name"] for s in ALL_STAGES]
    assert all(r.steps == 1 and torch.isfinite(torch.tensor(r.losses)).all() for r in results)

    # the final weights load strictly into the diffusion engine's network
    net = Net.from_config(tiny_network())
    net.load_checkpoint(fresh_dir / "net.pth")
    assert (fresh_dir / "net_ema.pth").is_file() and (fresh_dir / "checkpoints" / "stage2_phase3-step1").is_dir()

    # stage 1 trains spatial parts only; stage 2 only motion / audio modules and audioproj
    stage1 = torch.load(fresh_dir / "stage1" / "net.pth", weights_only=True)
    phase1 = torch.load(fresh_dir / "stage2_phase1" / "net.pth", weights_only=True)
    assert _changed(initial, stage1) >= {"reference_unet", "denoising_unet", "imageproj"}
    assert "denoising_unet.temporal" not in _changed(initial, stage1) and "audioproj" not in _changed(initial, stage1)
    assert _changed(stage1, phase1) <= {"denoising_unet.temporal", "audioproj"}
    assert "denoising_unet.temporal" in _changed(stage1, phase1)
    log = [json.loads(line) for line in (fresh_dir / "log.jsonl").read_text().splitlines()]
    assert [r["global_step"] for r in log] == [1, 2, 3, 4]


def test_resume_gives_the_same_next_loss(mini_dataset, make_config, tmp_path, one_thread):
    stages = [{"name": "stage2_phase2", "stage": 2, "phase": 2, "steps": 3}]
    config = make_config(mini_dataset[0], stages, logging={"checkpoint_every": 2})
    straight = Trainer(config, output_dir=tmp_path / "a").run()[0].losses
    assert len(straight) == 3

    config = make_config(mini_dataset[0], stages, logging={"checkpoint_every": 2})
    resumed = Trainer(config, output_dir=tmp_path / "b").run(resume=tmp_path / "a" / "checkpoints" / "stage2_phase2-step2")
    assert resumed[0].steps == 1
    assert resumed[0].losses[0] == straight[2]
    a = torch.load(tmp_path / "a" / "net.pth", weights_only=True)
    b = torch.load(tmp_path / "b" / "net.pth", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_loss_falls_when_overfitting_one_batch(mini_dataset, make_config, fresh_dir, one_thread):
    stage = {"name": "stage1", "stage": 1, "steps": 30}
    config = make_config(mini_dataset[0], [stage], optim={"learning_rate": 1e-3, "noise_offset": 0.0, "batch_size": 1},
                         data={"text_dropout": 0.0, "reference_dropout": 0.0})
    trainer = Trainer(config, output_dir=fresh_dir)
    trainer.prepare_stage(config.stages[0], steps=30)
    batch = next(trainer.batches(config.stages[0], 0))
    losses = [trainer.train_step(None, config.stages[0], 0, step, fixed_batch=batch, noise_seed=0) for step in range(30)]
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3, losses
