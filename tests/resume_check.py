"""A reusable resume test: a run interrupted at a checkpoint and resumed ends where the uninterrupted run ends.

`check_resume` trains the same seeded run twice on CPU -- once straight through, once stopped right after the
checkpoint at `stop_at` and continued by a *fresh* model and Trainer with ``resume_from_checkpoint`` -- and asserts
that the final weights (and buffers) and the per-step logged losses are equal. Models with state outside their
parameters (an EMA teacher updated by a callback, a language model attached by name and not saved) pass their own
`make_model` / `make_trainer`, so that each architecture gets the same test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments


class _StopAfter(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True
        return control


def _losses(trainer: Trainer) -> dict[int, dict[str, float]]:
    """Per step, every logged training term (``loss`` and the model's own terms)."""
    out = {}
    for entry in trainer.state.log_history:
        if "loss" in entry and "step" in entry:
            out[entry["step"]] = {k: v for k, v in entry.items() if k.startswith("loss")}
    return out


def check_resume(
    tmp_path: Path,
    make_model: Callable[[], torch.nn.Module],
    make_trainer: Callable[[torch.nn.Module, TrainingArguments], Trainer],
    total_steps: int = 6,
    stop_at: int = 3,
    **training_kwargs,
) -> tuple[Trainer, Trainer]:
    """Assert that stopping at `stop_at` and resuming gives the uninterrupted run's weights and losses; returns the
    uninterrupted and the resumed trainers."""

    def arguments(folder: str) -> TrainingArguments:
        defaults = dict(
            max_steps=total_steps,
            per_device_train_batch_size=8,
            learning_rate=1e-2,
            logging_steps=1,
            save_strategy="steps",
            save_steps=stop_at,
            report_to="none",
            disable_tqdm=True,
            seed=0,
            use_cpu=True,
            dataloader_num_workers=0,
        )
        return TrainingArguments(str(tmp_path / folder), **{**defaults, **training_kwargs})

    straight = make_trainer(make_model(), arguments("straight"))
    straight.train()
    interrupted = make_trainer(make_model(), arguments("interrupted"))
    interrupted.add_callback(_StopAfter(stop_at))
    interrupted.train()
    assert interrupted.state.global_step == stop_at
    checkpoint = tmp_path / "interrupted" / f"checkpoint-{stop_at}"
    assert checkpoint.is_dir()
    resumed = make_trainer(make_model(), arguments("interrupted"))
    resumed.train(resume_from_checkpoint=str(checkpoint))
    assert resumed.state.global_step == total_steps
    expected, got = _losses(straight), _losses(resumed)
    assert set(expected) == set(range(1, total_steps + 1)) and set(got) == set(expected)
    for step in expected:
        assert got[step] == expected[step], (step, got[step], expected[step])
    final = {**dict(straight.model.named_parameters()), **dict(straight.model.named_buffers())}
    for name, tensor in {**dict(resumed.model.named_parameters()), **dict(resumed.model.named_buffers())}.items():
        torch.testing.assert_close(tensor, final[name], rtol=0, atol=0, msg=name)
    return straight, resumed
