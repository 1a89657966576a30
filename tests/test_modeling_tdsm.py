"""TDSM's denoiser, schedule, losses and one-step scoring against the official code's definitions
(../shared/research/methods.md section 1) and the supplement's Table 13; the common model tests; the end-to-end
path through a frozen skeleton encoder against precomputed features."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertModel

from skeleton_models import STGCNConfig, STGCNForSkeletonClassification
from skeleton_models.conversion import ConversionError, convert_official, load_official_state_dict
from skeleton_models.layers import stgcn_spatial_graph
from skeleton_models.models.tdsm import (
    TDSMConfig,
    TDSMDenoiser,
    TDSMForZeroShotSkeletonClassification,
    TDSMModel,
    alphas_cumprod,
    class_prompts,
    encode_class_texts,
)
from skeleton_models.models.tdsm.modeling_tdsm import timestep_features
from skeleton_models.testing_utils import train_bpe_tokenizer

from .model_tester import ModelTesterMixin

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "reference"


class TestTDSM(ModelTesterMixin):
    model_type = "tdsm"
    # The last block's text-stream update feeds nothing (as in the official code): no gradient there.
    unused_parameters = ("tdsm.denoiser.blocks.1.streams.text.proj", "tdsm.denoiser.blocks.1.streams.text.mlp")

    def expected_output_shapes(self, config, model_class):
        n, c = self.batch_size, config.feature_size
        k = len(config.candidate_classes)
        if model_class is TDSMModel:
            return {"last_hidden_state": (n, k, 1, c), "features": (n, 1, c)}
        return {"logits": (n, config.num_labels), "features": (n, 1, c)}

    def freezing_overrides(self):
        return [{}, {"freeze_skeleton_encoder": False}]


TINY = dict(
    feature_size=16,
    text_hidden_size=8,
    num_text_tokens=5,
    hidden_size=24,
    num_hidden_layers=2,
    num_attention_heads=3,
    num_labels=6,
    seen_classes=[0, 1, 2, 3],
    num_train_timesteps=50,
)


def tiny(**overrides) -> TDSMForZeroShotSkeletonClassification:
    torch.manual_seed(0)
    model = TDSMForZeroShotSkeletonClassification(TDSMConfig(**{**TINY, **overrides}))
    model.set_class_embeddings(torch.randn(6, 6, 16))
    with torch.no_grad():  # leave adaLN-Zero's zero start, so that the text matters in these tests
        for p in model.tdsm.denoiser.parameters():
            if not p.abs().sum():
                p.normal_(0, 0.05)
    return model


def test_schedule_is_sd21_scaled_linear_with_t_50():
    """betas = linspace(sqrt(0.00085), sqrt(0.012), 50)^2 (methods.md 1.4: a_25 = 0.9341, a_49 = 0.7638)."""
    a = alphas_cumprod(50, 0.00085, 0.012, "scaled_linear")
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 50, dtype=torch.float64) ** 2
    torch.testing.assert_close(a.double(), torch.cumprod(1 - betas, 0), rtol=1e-6, atol=1e-7)
    assert a[25].item() == pytest.approx(0.9341, abs=1e-4) and a[49].item() == pytest.approx(0.7638, abs=1e-4)
    assert a.dtype == torch.float32
    linear = alphas_cumprod(10, 0.1, 0.2, "linear")
    torch.testing.assert_close(linear, torch.cumprod(1 - torch.linspace(0.1, 0.2, 10), 0))


def test_timestep_features_are_cos_then_sin():
    f = timestep_features(torch.tensor([0.0, 3.0]), 8)
    assert torch.equal(f[0], torch.tensor([1.0, 1, 1, 1, 0, 0, 0, 0]))
    freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(4) / 4)
    torch.testing.assert_close(f[1], torch.cat([torch.cos(3 * freqs), torch.sin(3 * freqs)]))


def test_paper_size_matches_the_code_and_table13():
    """About 261 M parameters, 21.3 M per CrossDiT block (hidden 768, 12 blocks, 12 heads, 2 x 1024-d prompts)."""
    with torch.device("meta"):
        model = TDSMDenoiser(TDSMConfig())
    block = sum(p.numel() for p in model.blocks[0].parameters())
    total = sum(p.numel() for p in model.parameters())
    assert block == 21_256_704  # 2 streams x (adaLN 6D, qkv 3D, proj, MLP 4D)
    assert total == 261_208_576
    assert model.global_text_embed[0].in_features == 2048 and model.local_text_position.shape == (1, 35, 768)


def test_the_last_block_skips_only_what_feeds_nothing():
    """The last block attends with the skeleton queries only and skips the text update: the same prediction as
    running every block in full."""
    model = tiny().tdsm.denoiser
    x, t, zg, zl = torch.randn(3, 1, 16), torch.tensor([1, 20, 49]), torch.randn(3, 16), torch.randn(3, 5, 16)
    full_x, text = model.feature_embed(x), model.local_text_embed(zl) + model.local_text_position
    c = model.timestep_embed(timestep_features(t, 256)) + model.global_text_embed(zg)
    for block in model.blocks:
        full_x, text = block(full_x, text, c, update_text=True)
    shift, scale = model.final_modulation(c).chunk(2, dim=-1)
    full = model.final_projection(model.final_norm(full_x) * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1))
    torch.testing.assert_close(model(x, t, zg, zl)[0], full)


def test_scoring_cost_at_paper_size():
    """One denoiser pass at the paper's size is 3.04 GMACs (torch's FLOP counter: matrix products and attention),
    so scoring one clip against 24 classes with 3 noises is ~219 GMACs (the issue's estimate: ~230, which also
    counts the last block's unused text update that the code computes and this implementation skips)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = TDSMForZeroShotSkeletonClassification(TDSMConfig(num_labels=60, unseen_classes=list(range(24))))
        features = torch.randn(1, 1, 256)
    counter = FlopCounterMode(display=False)
    with counter:
        model.eval().class_errors(features)
    assert counter.get_total_flops() / 2 / 72 == pytest.approx(3.0383e9, rel=1e-3)


def test_starts_at_zero_and_attends_jointly():
    """adaLN-Zero: a fresh denoiser predicts 0; the skeleton token's output depends on the local text tokens
    (joint attention, Eq. 19) and on the global text (through the modulation)."""
    torch.manual_seed(0)
    fresh = TDSMModel(TDSMConfig(**TINY)).denoiser
    x, t = torch.randn(2, 1, 16), torch.tensor([3, 40])
    zg, zl = torch.randn(2, 16), torch.randn(2, 5, 16)
    assert not fresh(x, t, zg, zl)[0].any()
    model = tiny().tdsm.denoiser
    base = model(x, t, zg, zl)[0]
    assert base.shape == (2, 1, 16)
    other_local = zl.clone()
    other_local[:, 2] += 1.0
    assert not torch.allclose(model(x, t, zg, other_local)[0], base)
    assert not torch.allclose(model(x, t, zg + 1.0, zl)[0], base)
    assert not torch.allclose(model(x, t + 5, zg, zl)[0], base)


def test_training_losses_follow_the_official_code():
    """L_diff = MSE under the true text; L_TD = mean(relu(pos - neg + margin) * [neg != true]) over the whole batch,
    with one noise and one t shared by both passes; negatives uniform over the seen classes with replacement."""
    model = tiny()
    features, labels = torch.randn(8, 1, 16), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    torch.manual_seed(5)
    loss_diff, loss_td = model.training_losses(features, labels)
    torch.manual_seed(5)  # the same draws, in the same order
    noise = torch.randn_like(features)
    t = torch.randint(0, 50, (8,))
    negatives = torch.tensor([0, 1, 2, 3])[torch.randint(0, 4, (8,))]
    a = model.tdsm.alphas_cumprod[t].view(-1, 1, 1)
    noisy = a.sqrt() * features + (1 - a).sqrt() * noise
    emb = model.tdsm.class_embeddings

    def predict(classes):
        return model.tdsm.denoiser(noisy, t, emb[classes, -1], emb[classes, :-1])[0]

    pos = ((predict(labels) - noise) ** 2).mean(dim=(1, 2))
    neg = ((predict(negatives) - noise) ** 2).mean(dim=(1, 2))
    torch.testing.assert_close(loss_diff, torch.nn.functional.mse_loss(predict(labels), noise))
    mask = (negatives != labels).float()
    assert 0 < mask.sum() < 8  # the draw includes negatives equal to the label: they count as zero
    torch.testing.assert_close(loss_td, (torch.relu(pos - neg + 1.0) * mask).sum() / 8)
    out = model.train()(features=features, labels=labels)
    assert out.logits is None and out.loss is not None  # training mode: losses only


def test_training_losses_take_the_draws_of_a_step():
    """The step's noise, timesteps and negatives given (e.g. an official run's, as the parity fixture gives them)
    replace the draws: the same losses as when the model makes the same draws itself; other negatives, another
    L_TD."""
    model = tiny()
    features, labels = torch.randn(8, 1, 16), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    torch.manual_seed(5)
    drawn = model.training_losses(features, labels)
    torch.manual_seed(5)  # the draws the model makes, in its order
    noise, t = torch.randn_like(features), torch.randint(0, 50, (8,))
    negatives = torch.tensor([0, 1, 2, 3])[torch.randint(0, 4, (8,))]
    given = model.training_losses(features, labels, noise=noise, timesteps=t, negatives=negatives)
    torch.testing.assert_close(given, drawn)
    other = model.training_losses(features, labels, noise=noise, timesteps=t, negatives=(negatives + 1) % 4)
    torch.testing.assert_close(other[0], drawn[0])
    assert not torch.allclose(other[1], drawn[1])


def test_the_official_checkpoint_converts_from_accelerates_safetensors(tmp_path):
    """The official train.py saves its DiT with accelerate's save_state (<work_dir>/best/model.safetensors): it
    converts into a features-only TDSM (the sizes read from the shapes) whose class texts -- not in the checkpoint,
    the official code encodes them at start-up -- stay zero until set; every denoiser weight is the checkpoint's."""
    fixture = load_file(REFERENCE / "tdsm.safetensors")
    official = {k.removeprefix("official."): v for k, v in fixture.items() if k.startswith("official.")}
    save_file(official, tmp_path / "model.safetensors")
    loaded = load_official_state_dict(tmp_path / "model.safetensors")
    model = convert_official("tdsm", loaded, num_attention_heads=4, num_labels=5, unseen_classes=[3, 4])
    config = model.config
    assert config.skeleton_config is None and config.input_specs[0].name == "features"
    assert (config.feature_size, config.hidden_size, config.num_hidden_layers) == (16, 32, 2)
    assert (config.num_text_tokens, config.condition_size, config.num_prompts) == (35, 16, 2)
    assert (
        config.candidate_classes == [3, 4] and config.text_model_name_or_path == "stabilityai/stable-diffusion-2-1-base"
    )
    assert not model.tdsm.class_embeddings.any()
    torch.testing.assert_close(model.tdsm.denoiser.feature_embed.weight, official["x_embedder.weight"])
    text = model.tdsm.denoiser.blocks[1].streams["text"]
    torch.testing.assert_close(text.modulation[1].weight, official["blocks.1.adaLN_modulation_c.1.weight"])
    with pytest.raises(ConversionError, match="no official key becomes .1: tdsm.denoiser.final_projection.bias"):
        convert_official(
            "tdsm", {k: v for k, v in loaded.items() if k != "final_layer.linear.bias"}, num_attention_heads=4
        )


def test_one_step_scoring_sums_errors_over_the_fixed_noises():
    model = tiny().eval()
    features = torch.randn(3, 16)
    errors = model.class_errors(features.unsqueeze(1), [4, 5, 1])
    t = torch.tensor([25])
    a = model.tdsm.alphas_cumprod[25]
    for i in range(3):
        for j, c in enumerate([4, 5, 1]):
            total = 0.0
            for noise in model.tdsm.inference_noise:
                noisy = a.sqrt() * features[i].view(1, 1, -1) + (1 - a).sqrt() * noise.unsqueeze(0)
                emb = model.tdsm.class_embeddings[c]
                pred = model.tdsm.denoiser(noisy, t, emb[-1:], emb[None, :-1])[0]
                total += ((pred - noise) ** 2).mean()
            torch.testing.assert_close(errors[i, j], total, rtol=1e-4, atol=1e-6)
    out = model(features=features)
    assert torch.isinf(out.logits[:, :4]).all()  # zero-shot: only the unseen classes 4, 5 are candidates
    torch.testing.assert_close(out.logits[:, 4:], -model.class_errors(features.unsqueeze(1), [4, 5]))
    # Generalised zero-shot: every class a candidate, seen errors raised by the calibration.
    gzsl = tiny(unseen_classes=[0, 1, 2, 3, 4, 5], seen_class_calibration=0.5).eval()
    plain = tiny(unseen_classes=[0, 1, 2, 3, 4, 5]).eval()
    shift = gzsl(features=features).logits - plain(features=features).logits
    torch.testing.assert_close(shift, torch.tensor([-0.5] * 4 + [0.0] * 2).expand(3, 6))


def test_sample_prediction_targets_the_clean_feature():
    model = tiny(prediction_type="sample")
    features = torch.randn(4, 1, 16)
    noise = torch.zeros_like(features)
    assert torch.equal(model._target(features, noise), features)
    with pytest.raises(ValueError, match="prediction_type must be one of"):
        TDSMConfig(prediction_type="v")


def test_bad_inputs_are_named():
    model = tiny().eval()
    with pytest.raises(ValueError, match=r"`features` must have shape \(N, C=16\)"):
        model(features=torch.randn(2, 15))
    with pytest.raises(ValueError, match="TDSM needs `features`"):
        model()
    with pytest.raises(ValueError, match="class embeddings must have shape"):
        model.set_class_embeddings(torch.zeros(6, 5, 16))
    with pytest.raises(ValueError, match="training needs seen classes"):
        tiny(seen_classes=None, unseen_classes=list(range(6))).train()(
            features=torch.randn(2, 16), labels=torch.tensor([0, 1])
        )
    default = TDSMConfig(num_labels=4)  # no split: every class trained on and scored
    assert default.training_classes == default.candidate_classes == [0, 1, 2, 3]
    assert TDSMConfig(num_labels=4, unseen_classes=[1]).training_classes == [0, 2, 3]
    with pytest.raises(ValueError, match="inference_timestep must be in"):
        TDSMConfig(inference_timestep=50)
    with pytest.raises(ValueError, match=r"seen_classes \[7\] are not class indices"):
        TDSMConfig(num_labels=6, seen_classes=[0, 7])


def test_encode_class_texts_as_the_code():
    """Every prompt padded to M_l tokens, all token states kept, then the global vector; prompts concatenated over
    channels."""
    tokenizer = train_bpe_tokenizer(["a person waves", "someone claps the hands", "two people hug"], vocab_size=60)
    torch.manual_seed(0)
    encoder = BertModel(
        BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=16,
            pad_token_id=tokenizer.pad_token_id,
        )
    ).eval()
    prompts = [["a person waves", "waving"], ["someone claps the hands", "clapping"]]
    out = encode_class_texts(prompts, encoder, tokenizer, num_tokens=5, pooling="pooler")
    assert out.shape == (2, 6, 16)
    ids = tokenizer(["a person waves", "someone claps the hands"], padding="max_length", max_length=5,
                    truncation=True, return_tensors="pt")["input_ids"]  # fmt: skip
    reference = encoder(input_ids=ids)  # no attention mask, as the code
    torch.testing.assert_close(out[:, :5, :8], reference.last_hidden_state)
    torch.testing.assert_close(out[:, 5, :8], reference.pooler_output)
    mean = encode_class_texts(prompts, encoder, tokenizer, num_tokens=5, pooling="mean")
    assert not torch.allclose(mean[:, 5], out[:, 5])
    with pytest.raises(ValueError, match="same number of prompts"):
        encode_class_texts([["a"], ["b", "c"]], encoder, tokenizer)


def test_end_to_end_from_skeletons_equals_precomputed_features():
    """A TDSM built around a trained skeleton classifier's backbone scores raw skeletons exactly as it scores the
    features that backbone computes beforehand (the cached-column path); the encoder stays frozen and in
    evaluation mode while the denoiser trains."""
    torch.manual_seed(0)
    encoder = STGCNForSkeletonClassification(
        STGCNConfig(hidden_sizes=[8, 16], strides=[1, 2], temporal_kernel_size=3, num_labels=4)
    ).eval()
    with torch.no_grad():
        encoder.stgcn.data_bn.running_mean.normal_()  # trained statistics, which a train-mode pass would change
    model = TDSMForZeroShotSkeletonClassification.from_skeleton_model(
        encoder, **{k: v for k, v in TINY.items() if k != "feature_size"}, text_model_name_or_path=None
    )
    assert model.config.feature_size == 16 and model.config.skeleton_config.model_type == "stgcn"
    official = torch.from_numpy(stgcn_spatial_graph("ntu25", "official"))  # ST-GCN's encoder: the official graph
    assert all(torch.equal(block.gcn.graph, official) for block in model.tdsm.skeleton_encoder.blocks)
    model.set_class_embeddings(torch.randn(6, 6, 16))
    skeletons = torch.randn(3, 3, 12, 25, 2)
    with torch.no_grad():
        features = encoder.stgcn(skeletons).pooler_output
        model.eval()
        torch.testing.assert_close(model(skeletons=skeletons).logits, model(features=features).logits)
        torch.testing.assert_close(model(skeletons=skeletons).features.squeeze(1), features)
    model.train()
    assert not model.tdsm.skeleton_encoder.training and model.tdsm.denoiser.training
    before = encoder.stgcn.data_bn.running_mean.clone()
    loss = model(skeletons=skeletons, labels=torch.tensor([0, 1, 2])).loss
    loss.backward()
    torch.testing.assert_close(model.tdsm.skeleton_encoder.data_bn.running_mean, before)
    assert all(p.grad is None for p in model.tdsm.skeleton_encoder.parameters())
    with pytest.raises(ValueError, match="skeleton encoder must be one of"):
        TDSMForZeroShotSkeletonClassification.from_skeleton_model(torch.nn.Linear(2, 2))
    small = TDSMForZeroShotSkeletonClassification.from_skeleton_model(
        encoder, "tdsm-small", class_names=list("abcdef"), seen_classes=[0, 1, 2, 3]
    )  # the preset's DiT and texts around this encoder
    assert small.config.hidden_size == 128 and small.config.feature_size == 16 and small.config.id2label[5] == "f"
    assert small.config.skeleton_config.hidden_sizes == [8, 16]
    with pytest.raises(ValueError, match="features are 16-d"):
        TDSMConfig(skeleton_config=model.config.skeleton_config, feature_size=256)


def test_class_prompts_repeat_one_prompt_datasets():
    assert class_prompts(["drink water", ["eat", "eating a meal"]], 2) == [
        ["drink water", "drink water"],
        ["eat", "eating a meal"],
    ]
    with pytest.raises(ValueError, match="class 0: give 1 to 1 prompt strings"):
        class_prompts([["a", "b"]], 1)


def test_predict_scores_any_class_names_with_the_given_text_encoder():
    """`predict` encodes the user's class texts and ranks them by the same one-step errors as the stored classes."""
    tokenizer = train_bpe_tokenizer(["a person waves", "someone claps the hands", "two people hug"], vocab_size=60)
    torch.manual_seed(0)
    text_model = BertModel(
        BertConfig(vocab_size=len(tokenizer), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                   intermediate_size=16, pad_token_id=tokenizer.pad_token_id)
    ).eval()  # fmt: skip
    model = tiny(num_text_tokens=5, text_model_name_or_path=None).eval()
    texts = [["a person waves", "waving"], ["someone claps the hands", "clapping"], "two people hug"]
    features = torch.randn(2, 16)
    top = model.predict(features=features, class_texts=texts, text_model=text_model, tokenizer=tokenizer, top_k=3)
    embeddings = model.encode_texts(texts, text_model, tokenizer)
    errors = model.class_errors(features.unsqueeze(1), [0, 1, 2], class_embeddings=embeddings)
    names = ["a person waves", "someone claps the hands", "two people hug"]
    for row, clip in zip(errors, top):
        order = row.argsort().tolist()
        assert [name for name, _ in clip] == [names[j] for j in order]
        torch.testing.assert_close(torch.tensor([s for _, s in clip]), -row[order])
    model.set_class_texts([*texts, "jump", "kick", "sit"], text_model, tokenizer)
    torch.testing.assert_close(model.tdsm.class_embeddings[:3], embeddings)
    with pytest.raises(ValueError, match="no text encoder"):
        model.predict(features=features, class_texts=["jump"])


def test_the_paper_text_setting_loads_a_clip_text_encoder_from_subfolders(tmp_path):
    """The `tdsm` preset's text path: a CLIP text encoder and its tokenizer in the subfolders of one repository (as
    SD-2.1-base's text_encoder/ and tokenizer/), the pooled (end-of-text) state as z_g -- here a tiny random CLIP
    saved locally, since the Hub cannot be reached."""
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = train_bpe_tokenizer(["a person waves", "someone claps the hands", "two people hug"], vocab_size=60)
    torch.manual_seed(0)
    clip = CLIPTextModel(
        CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                       num_attention_heads=2, max_position_embeddings=35, pad_token_id=tokenizer.pad_token_id)
    ).eval()  # fmt: skip
    clip.save_pretrained(tmp_path / "text_encoder")
    tokenizer.save_pretrained(tmp_path / "tokenizer")
    config = TDSMConfig.from_preset("tdsm", **{**TINY, "text_hidden_size": 8}, text_model_name_or_path=str(tmp_path))
    assert config.text_pooling == "pooler" and config.text_model_subfolder == ["text_encoder", "tokenizer"]
    model = TDSMForZeroShotSkeletonClassification(config)
    prompts = [["a person waves", "waving"]] * 6
    model.set_class_texts(prompts)
    torch.testing.assert_close(model.tdsm.class_embeddings, encode_class_texts(prompts, clip, tokenizer, 5, "pooler"))
