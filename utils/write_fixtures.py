"""Reference fixtures from the official implementations (developer script).

Each fixture is the record of one run of an official model at a small configuration with a fixed seed: its state
dict under its own key names, a fixed input (and mask / noise / timestep where the model takes them) and the
official outputs. Nothing of the official code is copied into this repository: the script imports it from a checkout
given on the command line (``git clone`` of the repository at the commit named in the fixture), runs it, and keeps
only numbers. ``tests/test_parity.py`` converts each fixture's state dict with the architecture's conversion
(`skeleton_models.conversion`) and compares our outputs with the official ones in CI.

    python utils/write_fixtures.py stgcn --checkout /tmp/st-gcn   # -> tests/fixtures/reference/stgcn.safetensors

A fixture file holds ``official.<key>`` (the state dict), ``input.<name>`` and ``output.<name>`` tensors, and its
metadata (conversion, options, source, official call, seed, tolerance) as JSON in the safetensors header.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "fixtures" / "reference"

# name -> writer(checkout) returning (official state dict, inputs, outputs, metadata)
WRITERS: dict[str, Callable[[Path], tuple[dict, dict, dict, dict]]] = {}


def writer(name: str):
    def register(function):
        WRITERS[name] = function
        return function

    return register


def import_from_checkout(checkout: Path, modules: dict[str, str]):
    """Import files of an official checkout as modules of the given names, in order (a package's ``__init__.py``
    first, as ``{"graph": "graph/__init__.py"}``); returns the last module. The checkout's own absolute imports
    between its files must be among `modules`."""
    module = None
    for name, relative in modules.items():
        if name in sys.modules:
            module = sys.modules[name]
            continue
        path = checkout / relative
        if not path.is_file():
            raise SystemExit(f"{checkout}: no {relative}; is it a checkout of the official repository?")
        locations = [str(path.parent)] if path.name == "__init__.py" else None
        spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def checkout_commit(checkout: Path) -> str:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def save_fixture(name: str, official: dict, inputs: dict, outputs: dict, metadata: dict, folder: Path) -> Path:
    tensors = {f"official.{k}": v for k, v in official.items()}
    tensors |= {f"input.{k}": v for k, v in inputs.items()}
    tensors |= {f"output.{k}": v for k, v in outputs.items()}
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file(tensors, path, metadata={"fixture": json.dumps(metadata, sort_keys=True)})
    return path


# -- MAMP (maoyunyao/MAMP) and TDSM (KAIST-VICLab/TDSM) ------------------------------------------------------------
def perturb(model: torch.nn.Module, std: float = 0.05) -> None:
    """Add N(0, std^2) to every parameter, in place: the official initialisations leave biases at 0, norms at 1 and
    TDSM's adaLN / final layers at 0 (an all-zero output), so that a swapped or missing name would go unseen."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(std * torch.randn_like(parameter))


def set_batch_norm_statistics(norm: torch.nn.BatchNorm1d) -> None:
    """Running statistics as after training (fresh ones are 0 / 1, which a swapped mean / variance would hide)."""
    with torch.no_grad():
        norm.running_mean.normal_(0.0, 0.5)
        norm.running_var.uniform_(0.5, 2.0)
        norm.num_batches_tracked.fill_(100)


def load_official_mamp(checkout: Path, package: str = "model_mamp"):
    """MAMP's ``transformer`` module of `package`: ``model_mamp`` (pre-training) or ``model`` (evaluation). Its
    ``__init__`` imports ``<package>.transformer``, which imports ``.drop``; both load from the package's folder."""
    import_from_checkout(checkout, {package: f"{package}/__init__.py"})
    return sys.modules[f"{package}.transformer"]


# MAMP at a small size (config/ntu60_xsub_joint/*.yaml with depth 2, width 32, 4 heads, 16 frames), 25 joints.
MAMP_SMALL = dict(
    dim_in=3, dim_feat=32, depth=2, num_heads=4, mlp_ratio=4, num_frames=16, num_joints=25, patch_size=1,
    t_patch_size=4, qkv_bias=True, qk_scale=None, drop_rate=0.0, attn_drop_rate=0.0,
)  # fmt: skip
MAMP_OPTIONS = {"num_attention_heads": 4, "layout": "ntu25", "drop_path_rate": None}


def mamp_metadata(conversion: str, options: dict, official: str, runner: str = "classify", **extra) -> dict:
    return {
        "conversion": conversion,
        "options": options,
        "source": "maoyunyao/MAMP",
        "official": official,
        "seed": 0,
        # float32: the official attention (explicit softmax) and ours (SDPA) sum in other orders
        "atol": 1e-5,
        "rtol": 1e-4,
        "runner": runner,
        "official_torch": torch.__version__,
        **extra,
    }


@writer("mamp")
def write_mamp(checkout: Path):
    """MAMP's evaluation model with its fine-tuning head (model/transformer.py, ``protocol: finetune``), the head's
    hidden width 32 instead of ``ActionHeadFinetune``'s default 2048 (a small fixture), in evaluation mode."""
    transformer = load_official_mamp(checkout, "model")
    model = transformer.Transformer(num_classes=5, drop_path_rate=0.3, protocol="finetune", **MAMP_SMALL)
    model.head = transformer.ActionHeadFinetune(dropout_ratio=0.3, dim_feat=32, num_classes=5, hidden_dim=32)
    perturb(model)
    set_batch_norm_statistics(model.head.bn)
    model.eval()
    skeletons = torch.randn(2, 3, 16, 25, 2)
    with torch.no_grad():
        logits = model(skeletons)
    official = (
        "model.transformer.Transformer(num_classes=5, drop_path_rate=0.3, protocol='finetune', **MAMP_SMALL); "
        "head = ActionHeadFinetune(dropout_ratio=0.3, dim_feat=32, num_classes=5, hidden_dim=32); parameters + "
        "N(0, 0.05^2), BatchNorm statistics set; eval()"
    )
    return (
        model.state_dict(),
        {"skeletons": skeletons},
        {"logits": logits},
        mamp_metadata("mamp", MAMP_OPTIONS, official),
    )


@writer("mamp-linprobe")
def write_mamp_linprobe(checkout: Path):
    """MAMP's evaluation model with the linear probe as main_linprobe.py line 226 builds it (``head.fc`` wrapped:
    BatchNorm1d without affine, eps 1e-6, then the linear layer), in evaluation mode."""
    transformer = load_official_mamp(checkout, "model")
    model = transformer.Transformer(num_classes=5, drop_path_rate=0.0, protocol="linprobe", **MAMP_SMALL)
    model.head.fc = torch.nn.Sequential(torch.nn.BatchNorm1d(32, affine=False, eps=1e-6), model.head.fc)
    perturb(model)
    set_batch_norm_statistics(model.head.fc[0])
    model.eval()
    skeletons = torch.randn(2, 3, 16, 25, 2)
    with torch.no_grad():
        logits = model(skeletons)
    official = (
        "model.transformer.Transformer(num_classes=5, protocol='linprobe', **MAMP_SMALL); head.fc = "
        "Sequential(BatchNorm1d(32, affine=False, eps=1e-6), head.fc) (main_linprobe.py); parameters + "
        "N(0, 0.05^2), BatchNorm statistics set; eval()"
    )
    return (
        model.state_dict(),
        {"skeletons": skeletons},
        {"logits": logits},
        mamp_metadata("mamp", MAMP_OPTIONS, official),
    )


@writer("mamp-pretrain")
def write_mamp_pretrain(checkout: Path):
    """MAMP's pre-training model (model_mamp/transformer.py, motion targets standardised per patch, decoder depth
    2), one forward with its motion-aware masking (ratio 0.9, tau 0.8: the NTU-60 config) and the loss's backward.
    The mask it drew is stored as an input: our model takes it (``mask=``) instead of drawing its own."""
    transformer = load_official_mamp(checkout, "model_mamp")
    model = transformer.Transformer(decoder_dim_feat=32, decoder_depth=2, norm_skes_loss=True, **MAMP_SMALL)
    perturb(model)
    skeletons = torch.randn(2, 3, 16, 25, 2)
    loss, prediction, mask = model(skeletons, mask_ratio=0.9, motion_stride=1, motion_aware_tau=0.8)
    loss.backward()
    official = (
        "model_mamp.transformer.Transformer(decoder_dim_feat=32, decoder_depth=2, norm_skes_loss=True, "
        "**MAMP_SMALL); parameters + N(0, 0.05^2); loss, pred, mask = model(x, mask_ratio=0.9, motion_stride=1, "
        "motion_aware_tau=0.8); loss.backward()"
    )
    options = {"num_attention_heads": 4, "layout": "ntu25", "mask_ratio": 0.9, "mask_tau": 0.8}
    outputs = {
        "loss": loss.detach(),
        "prediction": prediction.detach(),
        "mask": mask,
        "grad_patch_embed": model.joints_embed.proj.weight.grad,
    }
    metadata = mamp_metadata("mamp-pretrain", options, official, runner="pretrain")
    return model.state_dict(), {"skeletons": skeletons, "mask": mask}, outputs, metadata


@writer("tdsm")
def write_tdsm(checkout: Path):
    """TDSM's denoiser (model/dit.py ``DiT``: depth 2, width 32, 4 heads, 16-d features, 16-d conditions; 35 text
    tokens, fixed in the code) on one training step's inputs and the zero-shot scoring, computed as train.py's
    ``Trainer.train`` and ``Trainer.test`` do with the official DiT and noise schedule (diffusers' DDPMScheduler with
    SD-2.1-base's betas and ``num_train_timesteps=50``, as ``Trainer.load_checkpoint``). The text conditions are a
    random (K, 36, 16) table standing for the CLIP states of ``Trainer.text_prompt``."""
    from diffusers import DDPMScheduler  # the official code's noise schedule; only this writer needs diffusers

    dit = import_from_checkout(checkout, {"tdsm_dit": "model/dit.py"})
    model = dit.DiT(in_channels=16, cond_size=16, hidden_size=32, depth=2, num_heads=4, mlp_ratio=4.0)
    perturb(model)
    scheduler = DDPMScheduler(num_train_timesteps=50, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    batch, num_classes, margin = 6, 5, 1.0
    features = torch.randn(batch, 1, 16)
    class_embeddings = torch.randn(num_classes, 36, 16)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])  # seen classes 0, 1, 2; unseen 3, 4
    negatives = torch.tensor([1, 2, 0, 0, 0, 1])  # the fourth equals its label: its hinge counts zero, as the code's
    noise = torch.randn(batch, 1, 16)
    timesteps = torch.randint(0, 50, (batch,))
    # Trainer.train: the batch duplicated, the true class's text then the negative's, one noise and t per clip
    model.train()
    noisy = scheduler.add_noise(features.repeat(2, 1, 1), noise.repeat(2, 1, 1), timesteps.repeat(2))
    text = torch.cat((class_embeddings[labels], class_embeddings[negatives]), dim=0)
    prediction = model(noisy, timesteps.repeat(2), text[:, -1, :], text[:, :-1, :])
    target = noise.repeat(2, 1, 1)
    loss_diff = F.mse_loss(prediction[:batch], target[:batch])
    positive = (prediction[:batch] - target[:batch]).pow(2).mean(dim=(1, 2))
    negative = (prediction[batch:] - target[batch:]).pow(2).mean(dim=(1, 2))
    loss_td = (torch.clamp(positive - negative + margin, min=0.0) * (labels != negatives).float()).mean()
    (loss_diff + loss_td).backward()
    # Trainer.test: every unseen class's text under each of the fixed noises at t = idx_inference_step
    model.eval()
    candidates, inference_step = torch.tensor([3, 4]), 25
    inference_noise = torch.randn(3, 1, 16)
    errors = torch.zeros(batch, len(candidates))
    t = torch.ones(batch) * inference_step
    with torch.no_grad():
        for j in range(len(inference_noise)):
            eps = inference_noise[j].repeat(batch, 1, 1)
            noisy = scheduler.add_noise(features, eps, t.long())
            for k, c in enumerate(candidates):
                text = class_embeddings[torch.full((batch,), int(c))]
                predicted = model(noisy, t, text[:, -1, :], text[:, :-1, :])
                errors[:, k] += (predicted - eps).pow(2).mean(dim=(1, 2))
    inputs = {
        "features": features,
        "class_embeddings": class_embeddings,
        "labels": labels,
        "negatives": negatives,
        "noise": noise,
        "timesteps": timesteps,
        "candidates": candidates,
        "inference_noise": inference_noise,
        "inference_timestep": torch.tensor(inference_step),
    }
    outputs = {
        "prediction": prediction[:batch].detach(),
        "loss_diff": loss_diff.detach(),
        "loss_td": loss_td.detach(),
        "grad_feature_embed": model.x_embedder.weight.grad,
        "errors": errors,
    }
    options = {"num_attention_heads": 4, "num_labels": num_classes, "unseen_classes": [3, 4]}
    official = (
        "model.dit.DiT(in_channels=16, cond_size=16, hidden_size=32, depth=2, num_heads=4, mlp_ratio=4.0); "
        "parameters + N(0, 0.05^2); train.py Trainer.train's step (losses, backward) and Trainer.test's errors "
        "with DDPMScheduler(num_train_timesteps=50, beta_start=0.00085, beta_end=0.012, "
        "beta_schedule='scaled_linear')"
    )
    metadata = {
        "conversion": "tdsm",
        "options": options,
        "source": "KAIST-VICLab/TDSM",
        "official": official,
        "seed": 0,
        # float32: the official attention (explicit softmax over the concatenated streams) and ours (SDPA) sum in
        # other orders; errors and losses are means of squares of values ~1
        "atol": 1e-5,
        "rtol": 1e-4,
        "runner": "denoise",
        "official_torch": torch.__version__,
    }
    return model.state_dict(), inputs, outputs, metadata


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(WRITERS), help="the fixture")
    parser.add_argument("--checkout", required=True, type=Path, help="a checkout of the official repository")
    parser.add_argument("--output", type=Path, default=REFERENCE, help="the fixture folder")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    official, inputs, outputs, metadata = WRITERS[args.name](args.checkout.resolve())
    metadata.setdefault("commit", checkout_commit(args.checkout))
    path = save_fixture(args.name, official, inputs, outputs, metadata, args.output)
    size = path.stat().st_size / 1024
    print(f"wrote {path} ({size:.0f} KB; {metadata['source']}@{metadata['commit']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
