"""The skeleton ViT blocks against the definitions of MAMP's encoder (maoyunyao/MAMP model_mamp/transformer.py, as
../shared/research/methods.md section 2.1 reads it): explicit attention, patch order, the motion-aware masking."""

import pytest
import torch

from skeleton_models.layers import (
    DropPath,
    SelfAttention,
    SkeletonPatchEmbed,
    TransformerBlock,
    motion_aware_masking,
    patch_motion,
    patchify,
)


def test_attention_through_sdpa_equals_the_explicit_softmax():
    torch.manual_seed(0)
    attention = SelfAttention(16, 4).eval()
    x = torch.randn(3, 10, 16)
    q, k, v = attention.qkv(x).reshape(3, 10, 3, 4, 4).permute(2, 0, 3, 1, 4)
    weights = (q @ k.transpose(-2, -1) * 4**-0.5).softmax(-1)
    expected = attention.proj((weights @ v).transpose(1, 2).reshape(3, 10, 16))
    torch.testing.assert_close(attention(x), expected)
    flipped = attention(x, rotary=lambda t: t.flip(-1))  # the hook reaches queries and keys, not values
    weights = (q.flip(-1) @ k.flip(-1).transpose(-2, -1) * 4**-0.5).softmax(-1)
    torch.testing.assert_close(flipped, attention.proj((weights @ v).transpose(1, 2).reshape(3, 10, 16)))


def test_pre_norm_block_and_stochastic_depth():
    torch.manual_seed(0)
    block = TransformerBlock(16, 4, mlp_ratio=4, drop_path=0.5).eval()
    x = torch.randn(2, 5, 16)
    h = x + block.attn(block.norm1(x))
    torch.testing.assert_close(block(x), h + block.mlp(block.norm2(h)))
    assert block.mlp[0].out_features == 64
    drop = DropPath(0.25).train()
    out = drop(torch.ones(4000, 3))
    kept = out[:, 0] > 0
    assert torch.isclose(out, torch.tensor(0.0)).logical_or(torch.isclose(out, torch.tensor(1 / 0.75))).all()
    assert (out == out[:, :1]).all()
    assert abs(kept.float().mean().item() - 0.75) < 0.03
    assert torch.equal(DropPath(0.25).eval()(x), x)


def test_patch_embedding_and_patch_order():
    """120 frames x 25 joints -> 30 x 25 tokens; a patch holds [frame 0 xyz, frame 1 xyz, ...] of one joint."""
    embed = SkeletonPatchEmbed(3, 8, temporal_patch=4)
    assert embed(torch.randn(2, 3, 120, 25)).shape == (2, 30, 25, 8)
    with pytest.raises(ValueError, match="multiples of the patch size"):
        embed(torch.randn(2, 3, 118, 25))
    x = torch.arange(2 * 8 * 3 * 3, dtype=torch.float32).reshape(2, 8, 3, 3)  # (N, T, V, C)
    patches = patchify(x, 4)
    assert patches.shape == (2, 2, 3, 12)
    torch.testing.assert_close(patches[1, 1, 2], torch.cat([x[1, 4 + f, 2] for f in range(4)]))


def test_motion_aware_masking_is_mamps_ranking():
    """The visible tokens are the int(L (1 - r)) lowest of log softmax(m / (tau max m)) - log(-log U), with MAMP's
    motion m: the mean |patch - previous temporal patch|, the first copying the second. In floating point
    int(30 (1 - 0.9)) is 2 and int(750 (1 - 0.9)) is 74: MAMP's code keeps 74 of its 750 tokens visible, not 75."""
    torch.manual_seed(0)
    patches = torch.randn(3, 6, 5, 12)
    motion = patch_motion(patches)
    reference = (patches[:, 1:] - patches[:, :-1]).abs().mean(-1)
    torch.testing.assert_close(motion, torch.cat([reference[:, :1], reference], 1).flatten(1))
    generator = torch.Generator().manual_seed(7)
    ids_keep, mask, ids_restore = motion_aware_masking(patches, 0.9, 0.8, generator)
    uniform = torch.rand(3, 30, generator=torch.Generator().manual_seed(7))
    p = torch.softmax(motion / (motion.amax(-1, keepdim=True) * 0.8 + 1e-10), -1)
    scores = torch.log(p) - torch.log(-torch.log(uniform + 1e-10) + 1e-10)
    keep = int(30 * (1 - 0.9))
    assert keep == 2 and int(750 * (1 - 0.9)) == 74
    assert torch.equal(ids_keep, scores.argsort(1)[:, :keep])
    assert torch.equal(mask.sum(1), torch.full((3,), 30.0 - keep))
    assert torch.equal(mask.gather(1, ids_keep), torch.zeros(3, keep))
    assert torch.equal(scores.argsort(1).gather(1, ids_restore), torch.arange(30).expand(3, 30))
    # tau <= 0: MAE's uniform random masking (ranked by U alone)
    ids_random, _, _ = motion_aware_masking(patches, 0.9, 0.0, torch.Generator().manual_seed(7))
    assert torch.equal(ids_random, uniform.argsort(1)[:, :keep])


def test_high_motion_tokens_are_masked_more_often():
    still = torch.zeros(1, 10, 25, 12)
    still[:, 5:, :5] = torch.arange(5).view(1, 5, 1, 1).float()  # joints 0-4 move in the second half
    moving = torch.zeros(10, 25, dtype=torch.bool)
    moving[4:, :5] = True  # their motion (and the copied first patch's) is nonzero from temporal patch 4 on
    visible = torch.zeros(10 * 25)
    generator = torch.Generator().manual_seed(0)
    for _ in range(400):
        ids_keep, _, _ = motion_aware_masking(still, 0.9, 0.8, generator)
        visible[ids_keep[0]] += 1
    rate = visible.view(10, 25) / 400
    assert rate[moving].mean() < 0.5 * rate[~moving].mean()
    assert visible.sum().item() == 400 * int(250 * (1 - 0.9))
