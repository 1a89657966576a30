"""SLiM: the common model tests, the paper-size encoder cost against GFP's, RoPE, the teacher-student mechanics,
the collator's views and masks, the Table 5-7 switches and pre-training with the Trainer."""

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode
from transformers import AutoModel, TrainingArguments

from skeleton_models.layers import koleo_loss
from skeleton_models.models.gfp import GFPConfig, GFPModel
from skeleton_models.models.slim import (
    SLiMConfig,
    SLiMForPreTraining,
    SLiMForSkeletonClassification,
    SLiMModel,
    TemporalRotaryEmbedding,
)
from skeleton_models.registry import ARCHITECTURES
from skeleton_models.training import SLiMPreTrainingCollator, build_slim_pretraining_trainer

from .model_tester import ModelTesterMixin


class TestSLiM(ModelTesterMixin):
    model_type = "slim"
    unused_parameters = ("slim.encoder.mask_token",)  # downstream models never mask

    def expected_output_shapes(self, config, model_class):
        n, d, t = self.batch_size, config.hidden_size, config.num_temporal_tokens
        if model_class is SLiMModel:
            return {"last_hidden_state": (n, d, t, 25, 2), "pooler_output": (n, 2 * d)}
        if model_class is SLiMForPreTraining:
            return {"loss": (), "mask": (2 * n, t * 25)}
        return {"logits": (n, config.num_labels), "pooler_output": (n, 2 * d)}

    def freezing_overrides(self):
        return [{}, {"freeze_encoder": True}]

    def fullgraph_overrides(self, model_class):
        # dropping the padding persons gives a batch whose size depends on the data: a graph break by design
        return {"ignore_padding_persons": False} if model_class is SLiMForPreTraining else {}


def tiny(**overrides) -> SLiMConfig:
    return ARCHITECTURES["slim"].tiny(**overrides)


def gflops(model, clip) -> float:
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model(clip)
    return counter.get_total_flops() / 1e9


@pytest.mark.skipif(not hasattr(torch.nn.attention, "sdpa_kernel"), reason="torch without sdpa_kernel")
def test_paper_size_encoder_cost_against_gfp():
    """Inference GFLOPs of one 2-person clip (1 MAC = 2 FLOPs, attention counted): SLiM's stated architecture (8 x 25
    tokens + class + 4 registers, width 256, 8 layers, MLP 1024) costs ~5.9 G against GFP's / MAMP's 28.1 G (4.8x);
    the paper's 3.59 vs 28.32 (7.89x) is not reproduced by that architecture."""
    with torch.device("meta"):
        slim, gfp = SLiMModel(SLiMConfig()).eval(), GFPModel(GFPConfig()).eval()
        ours = gflops(slim, torch.randn(1, 3, 64, 25, 2))
        theirs = gflops(gfp, torch.randn(1, 3, 120, 25, 2))
    assert ours == pytest.approx(5.85, abs=0.01) and theirs == pytest.approx(28.1, abs=0.1)
    assert theirs / ours == pytest.approx(4.8, abs=0.05)
    # patch projection (24 -> 256), joint embeddings, class + 4 registers + mask token, 8 blocks, final LayerNorm
    expected = (24 * 256 + 256) + 25 * 256 + 6 * 256 + 8 * 789_760 + 512
    assert sum(p.numel() for p in slim.parameters()) == expected


def test_rope_depends_on_relative_time_and_leaves_the_prefix_alone():
    rope = TemporalRotaryEmbedding(head_dim=8, base=100.0)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)
    positions = torch.arange(6, dtype=torch.float32)

    def score(i, j):  # token 2 + i is a patch token at time i (2 prefix tokens, 1 joint)
        rotate = rope.rotation(positions, num_joints=1, num_prefix=2)
        qs, ks = rotate(q.expand(1, 1, 8, 8)), rotate(k.expand(1, 1, 8, 8))
        return (qs[0, 0, 2 + i] * ks[0, 0, 2 + j]).sum()

    torch.testing.assert_close(score(1, 3), score(2, 4))  # only the offset matters
    assert not torch.allclose(score(1, 3), score(1, 4))
    rotate = rope.rotation(positions, num_joints=3, num_prefix=2)
    x = torch.randn(1, 1, 2 + 18, 8)
    torch.testing.assert_close(rotate(x)[:, :, :3], x[:, :, :3])  # prefix and the first frame's joints: position 0
    torch.testing.assert_close(rotate(x).norm(dim=-1), x.norm(dim=-1))  # a rotation


def test_teacher_starts_as_the_student_follows_by_ema_and_is_the_saved_encoder(tmp_path):
    torch.manual_seed(0)
    model = SLiMForPreTraining(tiny())
    pairs = list(zip(model.slim.parameters(), model.student.parameters()))
    assert all(torch.equal(t, s) for t, s in pairs) and not any(t.requires_grad for t, _ in pairs)
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(1.0)
    before = [t.clone() for t, _ in pairs]
    momentum = model.update_teacher(0, 100)
    assert momentum == pytest.approx(0.994) and float(model.progress) == 0.0
    for (t, s), old in zip(pairs, before):
        torch.testing.assert_close(t, 0.994 * old + 0.006 * s)
    model.save_pretrained(tmp_path)
    reloaded = SLiMForPreTraining.from_pretrained(tmp_path)
    assert not any(p.requires_grad for p in reloaded.slim.parameters())  # frozen again after loading
    encoder = AutoModel.from_pretrained(tmp_path)  # the teacher's encoder
    assert isinstance(encoder, SLiMModel)
    torch.testing.assert_close(encoder.encoder.cls_token, model.slim.encoder.cls_token)
    assert model.teacher_temperature() == pytest.approx(0.04)
    model.update_teacher(50, 100)
    assert model.teacher_temperature() == pytest.approx(0.07)  # warm-up over the first 20 %


def test_collator_draws_the_papers_views_and_masks():
    config = SLiMConfig.from_preset("slim-small")
    collator = SLiMPreTrainingCollator(config, seed=0)
    clips = torch.randn(3, 3, 128, 25, 2)
    clips[1, ..., 1] = 0  # a clip with one person
    batch = collator([{"skeletons": c} for c in clips])
    assert batch["skeletons"].shape == batch["second_view"].shape == (3, 3, 64, 25, 2)
    assert {f: tuple(v.shape) for f, v in batch["local_views"].items()} == {
        32: (3, 2, 3, 32, 25, 2), 16: (3, 2, 3, 16, 25, 2), 8: (3, 2, 3, 8, 25, 2)
    }  # fmt: skip
    assert batch["mask"].shape == (6, 200) and batch["mask"].dtype == torch.bool
    ratios = batch["mask"].float().mean(1)
    assert (ratios >= 0.5).all() and (ratios <= 0.96).all()  # STM on G1 with p = 1
    assert batch["local_masks"][32].shape == (12, 100) and batch["local_masks"][8].shape == (12, 25)
    assert not torch.equal(batch["skeletons"], batch["second_view"])
    fixed = SLiMPreTrainingCollator(SLiMConfig.from_preset("slim-small", objective="cl"), seed=0)
    views = fixed([{"skeletons": c} for c in clips])["local_views"]
    assert list(views) == [16] and views[16].shape[1] == 6  # Table 5's CL: the same number of views, all 16 frames
    # the symmetric pass: G2 masked as a global view, its own local views
    assert (batch["second_view_mask"].float().mean(1) >= 0.5).all()
    assert {f: v.shape for f, v in batch["second_local_views"].items()} == {
        f: v.shape for f, v in batch["local_views"].items()
    }
    assert not torch.equal(batch["second_local_views"][32], batch["local_views"][32])
    one_pass = SLiMPreTrainingCollator(SLiMConfig.from_preset("slim-small", symmetric=False), seed=0)
    many = one_pass([{"skeletons": c} for c in torch.randn(8, 3, 128, 25, 2)])
    assert "second_local_views" not in many
    unmasked_rows = ~many["second_view_mask"].any(1)  # G2 as a contrastive view: STM with p = 0.5
    assert 0 < unmasked_rows.sum() < 16
    unmasked = SLiMPreTrainingCollator(SLiMConfig.from_preset("slim-small", global_masking="none"), seed=0)
    assert not unmasked([{"skeletons": c} for c in clips])["mask"].any()


def test_objective_and_koleo_switches():
    torch.manual_seed(0)
    clip = torch.randn(2, 3, 16, 25, 2)
    full = SLiMForPreTraining(tiny())(clip)
    assert all(t is not None for t in (full.loss_mfm, full.loss_glcl, full.loss_koleo))
    torch.testing.assert_close(full.loss, full.loss_mfm + full.loss_glcl + 0.1 * full.loss_koleo)
    mfm = SLiMForPreTraining(tiny(objective="mfm", koleo_weight=0.0))
    assert mfm.student.patch_head is not None and mfm(clip).loss_glcl is None
    glcl = SLiMForPreTraining(tiny(objective="glcl"))
    assert glcl.student.patch_head is None and glcl(clip).loss_mfm is None
    model = SLiMForPreTraining(tiny(koleo_target="cls"))
    out = model(clip)
    tokens = model.student.encoder(clip.permute(0, 4, 2, 3, 1).reshape(4, 16, 25, 3), out.mask)[0]
    torch.testing.assert_close(out.loss_koleo, koleo_loss(tokens[:, 0]))
    one_pass = SLiMForPreTraining(tiny(symmetric=False))
    batch = SLiMPreTrainingCollator(one_pass.config, seed=0)([{"skeletons": c} for c in torch.randn(2, 3, 128, 25, 2)])
    assert torch.isfinite(one_pass(**batch).loss)
    symmetric = SLiMForPreTraining(tiny(source_frames=128))
    batch = SLiMPreTrainingCollator(symmetric.config, seed=0)([{"skeletons": c} for c in torch.randn(2, 3, 128, 25, 2)])
    assert torch.isfinite(symmetric(**batch).loss)
    with pytest.raises(ValueError, match="objective"):
        SLiMConfig(objective="mae")
    with pytest.raises(ValueError, match="rotation"):
        SLiMConfig(rotation="full")


def test_pretraining_with_the_trainer_then_a_linear_probe(synthetic_tiny, tmp_path):
    """SLiM pre-training with the collator's views and the EMA callback: the teacher moves and differs from the
    student; its encoder is what the classifier loads."""
    config = tiny(source_frames=32)
    model = SLiMForPreTraining(config)
    args = TrainingArguments(
        str(tmp_path / "pretrain"), max_steps=3, per_device_train_batch_size=4, logging_steps=1, use_cpu=True,
        report_to="none", save_strategy="no", learning_rate=1e-3,
    )  # fmt: skip
    teacher_before = {k: v.clone() for k, v in model.slim.state_dict().items()}
    trainer = build_slim_pretraining_trainer(model, synthetic_tiny["train"], args)
    trainer.train()
    logged = [e for e in trainer.state.log_history if "loss" in e]
    assert logged and all({"loss_mfm", "loss_glcl", "loss_koleo"} <= set(e) for e in logged)
    assert float(model.progress) == 1.0
    changed = [k for k, v in model.slim.state_dict().items() if not torch.equal(v, teacher_before[k])]
    assert changed and not torch.equal(model.slim.encoder.cls_token, model.student.encoder.cls_token)
    trainer.save_model(str(tmp_path / "pretrained"))
    probe = SLiMForSkeletonClassification.from_pretrained(tmp_path / "pretrained", freeze_encoder=True, num_labels=23)
    torch.testing.assert_close(probe.slim.encoder.cls_token, model.slim.encoder.cls_token)
    assert not any(p.requires_grad for p in probe.slim.parameters()) and probe.classifier.weight.requires_grad


def _pad_person(x: torch.Tensor) -> torch.Tensor:
    """(..., M=1) views -> (..., 2) with an all-zero second person."""
    return torch.cat([x, torch.zeros_like(x)], dim=-1)


def _pad_mask_rows(mask: torch.Tensor, clips: int, per_sequence: int = 1) -> torch.Tensor:
    """(N K, L) masks of one person per clip -> (N 2 K, L): rows (clip, person, view), the padding person's rows
    another mask."""
    rows = mask.reshape(clips, 1, per_sequence, -1)
    return torch.cat([rows, rows.roll(1, dims=-1)], dim=1).flatten(0, 2)


@pytest.mark.parametrize("collated", [False, True])
def test_padding_persons_enter_no_loss_and_no_statistic(collated):
    """An added all-zero person (the processor's padding) in every view: with ``ignore_padding_persons`` (the
    default) the loss, each term and every gradient are those of the batch without it, in training mode
    (Sinkhorn-Knopp normalises over the batch, KoLeo compares its rows); its mask row comes back all zero. Off, the
    padding changes the loss. With the collator's inputs (two global views, local views and their masks) and with
    the default views."""
    n, length = 3, 4 * 25
    torch.manual_seed(1)
    first, second = torch.randn(n, 3, 16, 25, 1), torch.randn(n, 3, 16, 25, 1)
    mask, second_mask = (torch.stack([torch.randperm(length) < 50 for _ in range(n)]) for _ in range(2))
    inputs = {"skeletons": first, "mask": mask, "second_view_mask": second_mask}
    padded = {"skeletons": _pad_person(first), "mask": _pad_mask_rows(mask, n)}
    padded["second_view_mask"] = _pad_mask_rows(second_mask, n)
    if collated:
        inputs["second_view"], padded["second_view"] = second, _pad_person(second)
        for key in ("local", "second_local"):
            views = torch.randn(n, 2, 3, 8, 25, 1)  # two 8-frame views per clip
            masks = torch.stack([torch.randperm(50) < 20 for _ in range(2 * n)])
            inputs[f"{key}_views"], inputs[f"{key}_masks"] = {8: views}, {8: masks}
            padded[f"{key}_views"], padded[f"{key}_masks"] = {8: _pad_person(views)}, {8: _pad_mask_rows(masks, n, 2)}
    for ignore in (True, False):
        models = []
        for persons in (1, 2):
            torch.manual_seed(0)
            models.append(SLiMForPreTraining(tiny(num_persons=persons, ignore_padding_persons=ignore)).train())
        alone, with_padding = models
        with_padding.load_state_dict(alone.state_dict())
        expected, got = alone(**inputs), with_padding(**padded)
        if not ignore:
            assert not torch.allclose(got.loss, expected.loss)
            continue
        for term in ("loss", "loss_mfm", "loss_glcl", "loss_koleo"):
            torch.testing.assert_close(getattr(got, term), getattr(expected, term), msg=term)
        expected.loss.backward()
        got.loss.backward()
        for (name, a), (_, b) in zip(alone.named_parameters(), with_padding.named_parameters()):
            if a.grad is not None:
                torch.testing.assert_close(b.grad, a.grad, msg=name)
        assert torch.equal(got.mask[0::2], mask) and not got.mask[1::2].any()
    assert SLiMConfig().ignore_padding_persons


def test_weight_decay_follows_a_cosine_with_weight_decay_end():
    """``weight_decay_end``: before each step the decayed groups' weight decay is end + (start - end)(1 + cos(pi
    step / max_steps)) / 2 (DINOv2's 0.04 -> 0.4), the no-decay group stays 0; without it nothing moves."""
    import math
    from types import SimpleNamespace

    from skeleton_models.models.slim import SLiMTeacherCallback

    for end in (0.4, None):
        model = SLiMForPreTraining(tiny(weight_decay_end=end))
        parameters = list(model.student.parameters())
        optimizer = torch.optim.AdamW(
            [{"params": parameters[:2], "weight_decay": 0.04}, {"params": parameters[2:], "weight_decay": 0.0}]
        )
        for step in (0, 3, 10):
            state = SimpleNamespace(global_step=step, max_steps=10)
            SLiMTeacherCallback().on_step_begin(None, state, None, model=model, optimizer=optimizer)
            expected = 0.04 if end is None else end + (0.04 - end) * (1 + math.cos(math.pi * step / 10)) / 2
            assert optimizer.param_groups[0]["weight_decay"] == pytest.approx(expected)
            assert optimizer.param_groups[1]["weight_decay"] == 0.0
    assert optimizer.param_groups[0]["weight_decay"] == 0.04  # None: constant
