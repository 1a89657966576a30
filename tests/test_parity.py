"""Parity with the official implementations: every fixture in tests/fixtures/reference/ (the official state dict,
inputs and outputs of a run of the official code, written by utils/write_fixtures.py) is converted with its
architecture's conversion and must give the official outputs; `skeleton-models convert` round-trips it."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from skeleton_models import load_checkpoint
from skeleton_models.cli import main
from skeleton_models.conversion import CONVERSIONS, ConversionError, convert_official, load_official_state_dict

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "reference"
FIXTURES = sorted(REFERENCE.glob("*.safetensors"))


def read_fixture(path: Path) -> tuple[dict, dict, dict, dict]:
    """(official state dict, inputs, outputs, metadata) of a fixture file."""
    groups: dict[str, dict] = {"official": {}, "input": {}, "output": {}}
    with safe_open(path, "pt") as f:
        metadata = json.loads(f.metadata()["fixture"])
        for key in f.keys():
            group, _, name = key.partition(".")
            groups[group][name] = f.get_tensor(key)
    return groups["official"], groups["input"], groups["output"], metadata


def read_metadata(path: Path) -> dict:
    with safe_open(path, "pt") as f:
        return json.loads(f.metadata()["fixture"])


# Fixtures of a checkpoint conversion; a fixture with "conversion": null records an official computation that is not
# a checkpoint (e.g. mmnet-guidance, MMNet's RGB guidance) and has its own test.
CONVERTED = [path for path in FIXTURES if read_metadata(path)["conversion"] is not None]


def classify(model, inputs: dict) -> dict:
    return {"logits": model(**inputs).logits}


def classify_with_input_gradient(model, inputs: dict) -> dict:
    """Logits, the mean cross-entropy with ``labels`` and its gradient with respect to the input ``skeletons``
    (through every layer's backward: Shift-GCN's official temporal shift has a hand-written one)."""
    skeletons = inputs["skeletons"].clone().requires_grad_(True)
    with torch.enable_grad():
        out = model(skeletons=skeletons, labels=inputs["labels"])
        (grad,) = torch.autograd.grad(out.loss, skeletons)
    return {"logits": out.logits, "loss": out.loss, "skeletons_grad": grad}


# how a fixture's model is run on its inputs (metadata "runner"), giving the outputs it records
RUNNERS: dict[str, Callable[[torch.nn.Module, dict], dict]] = {
    "classify": classify,
    "classify_with_input_gradient": classify_with_input_gradient,
}


def pretrain(model, inputs: dict) -> dict:
    """Masked pre-training (GFP / MAMP) with the fixture's mask (the one the official run drew): the loss, the
    predicted patches, the mask and the gradient of the loss at the patch embedding."""
    model.zero_grad()
    with torch.enable_grad():
        out = model(skeletons=inputs["skeletons"], mask=inputs["mask"])
        out.loss.backward()
    grad = model.gfp.encoder.patch_embed.proj.weight.grad
    return {
        "loss": out.loss.detach(),
        "prediction": out.prediction.detach(),
        "mask": out.mask,
        "grad_patch_embed": grad,
    }


def denoise(model, inputs: dict) -> dict:
    """TDSM's denoiser on the fixture's draws (the official DiT's forward on one training step, its losses and a
    gradient, and the zero-shot scoring's errors): the class texts, the features, noise, timesteps and negatives
    of the step, the scoring's candidates, noises and t."""
    model.set_class_embeddings(inputs["class_embeddings"])
    features, labels = inputs["features"], inputs["labels"]
    draws = {"noise": inputs["noise"], "timesteps": inputs["timesteps"]}
    prediction = model.tdsm(features=features, classes=labels[:, None], **draws).last_hidden_state[:, 0]
    model.zero_grad()
    with torch.enable_grad():
        loss_diff, loss_td = model.training_losses(features, labels, negatives=inputs["negatives"], **draws)
        (model.config.lambda_diff * loss_diff + model.config.lambda_td * loss_td).backward()
    errors = model.class_errors(
        features,
        inputs["candidates"].tolist(),
        timestep=int(inputs["inference_timestep"]),
        noise=inputs["inference_noise"],
    )
    return {
        "prediction": prediction,
        "loss_diff": loss_diff.detach(),
        "loss_td": loss_td.detach(),
        "grad_feature_embed": model.tdsm.denoiser.feature_embed.weight.grad,
        "errors": errors,
    }


RUNNERS["pretrain"] = pretrain  # mamp-pretrain
RUNNERS["denoise"] = denoise  # tdsm


def classify_and_train(model, inputs: dict) -> dict:
    """Evaluation-mode ``logits``; then, in training mode (batch statistics), the model's ``loss`` for
    ``inputs["labels"]`` and the gradient of every parameter as ``grad.<name>`` (a fixture records some of them).
    The CTR-GCN and DeGCN fixtures (utils/write_fixtures.py ``classifier_fixture``)."""
    inputs = dict(inputs)
    labels = inputs.pop("labels")
    outputs = {"logits": model.eval()(**inputs).logits}
    with torch.enable_grad():
        model.train().zero_grad(set_to_none=True)
        loss = model(**inputs, labels=labels).loss
        loss.backward()
    model.eval()
    outputs["loss"] = loss.detach()
    outputs |= {f"grad.{name}": p.grad for name, p in model.named_parameters() if p.grad is not None}
    return outputs


RUNNERS["classify_and_train"] = classify_and_train


def stgcn_loss_gradient_and_graph(model, inputs: dict) -> dict:
    """ST-GCN (fixture ``stgcn``): the logits, the cross-entropy against ``labels``, its gradient with respect to
    the skeletons (evaluation mode), and the graph every block multiplies by its edge importances, transposed to the
    official orientation (net/st_gcn.py's ``A[k, input joint, output joint]``)."""
    skeletons = inputs["skeletons"].clone().requires_grad_(True)
    with torch.enable_grad():
        out = model(skeletons=skeletons, labels=inputs["labels"])
        (gradient,) = torch.autograd.grad(out.loss, skeletons)
    graphs = [block.gcn.graph for block in model.stgcn.blocks]
    assert all(torch.equal(graph, graphs[0]) for graph in graphs)
    return {"logits": out.logits, "loss": out.loss, "skeletons_grad": gradient, "graph": graphs[0].transpose(-1, -2)}


RUNNERS["stgcn"] = stgcn_loss_gradient_and_graph


def run(model, inputs: dict, metadata: dict) -> dict:
    with torch.no_grad():
        return RUNNERS[metadata.get("runner", "classify")](model, inputs)


def assert_official(ours: dict, outputs: dict, metadata: dict) -> None:
    assert set(outputs) <= set(ours)
    for name, expected in outputs.items():
        torch.testing.assert_close(ours[name], expected, atol=metadata["atol"], rtol=metadata["rtol"], msg=name)


@pytest.mark.parametrize("path", CONVERTED, ids=lambda p: p.stem)
def test_the_conversion_computes_what_the_official_code_computes(path):
    official, inputs, outputs, metadata = read_fixture(path)
    model = convert_official(metadata["conversion"], official, **metadata["options"])
    assert_official(run(model, inputs, metadata), outputs, metadata)


@pytest.mark.parametrize("path", CONVERTED, ids=lambda p: p.stem)
def test_a_checkpoint_with_an_unknown_or_a_missing_key_is_refused(path):
    official, _, _, metadata = read_fixture(path)
    extra = {**official, "not_a_layer.weight": torch.zeros(1)}
    with pytest.raises(ConversionError, match=r"official keys no rule maps \(1: not_a_layer\.weight\)"):
        convert_official(metadata["conversion"], extra, **metadata["options"])
    dropped = sorted(official)[0]
    fewer = {key: value for key, value in official.items() if key != dropped}
    with pytest.raises(ConversionError, match="weights of the model no official key becomes"):
        convert_official(metadata["conversion"], fewer, **metadata["options"])


@pytest.mark.parametrize("path", CONVERTED, ids=lambda p: p.stem)
def test_the_convert_command_round_trips_the_fixture(path, tmp_path):
    official, inputs, outputs, metadata = read_fixture(path)
    checkpoint = tmp_path / "official.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in official.items()}}, checkpoint)  # a training checkpoint
    options = [arg for key, value in metadata["options"].items() for arg in ("--option", f"{key}={json.dumps(value)}")]
    folder = tmp_path / "converted"
    assert (
        main(["convert", "--from", metadata["conversion"], str(checkpoint), "--output-dir", str(folder), *options]) == 0
    )
    model = load_checkpoint(folder).eval()
    assert_official(run(model, inputs, metadata), outputs, metadata)
    card = (folder / "README.md").read_text()
    assert metadata["source"] in card and "official.pt" in card


def test_every_conversion_has_a_fixture():
    covered = {read_metadata(path)["conversion"] for path in CONVERTED}
    assert covered == set(CONVERSIONS)


def test_a_pickled_object_is_never_unpickled(tmp_path):
    """Official checkpoints are read with weights_only=True: a pickle of anything but tensors and plain containers
    is refused before it runs."""

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pt"
    torch.save({"state_dict": Payload()}, path)
    with pytest.raises(ConversionError, match=r"evil\.pt: not a checkpoint torch\.load\(weights_only=True\) can read"):
        load_official_state_dict(path)
    (tmp_path / "list.pt").write_bytes(b"")
    with pytest.raises(ConversionError, match="list.pt: not a checkpoint"):
        load_official_state_dict(tmp_path / "list.pt")
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(ConversionError, match="list.pt: expected a state dict"):
        load_official_state_dict(tmp_path / "list.pt")
    with pytest.raises(ConversionError, match="missing.pt: no such file"):
        load_official_state_dict(tmp_path / "missing.pt")


def test_the_readme_parity_table_has_a_row_per_fixture():
    """README.md's "Parity with the official code" table (benchmarks/run_parity.py --write-readme) lists every
    fixture, and no fixture that is gone."""
    readme = (REFERENCE.parents[2] / "README.md").read_text()
    block = readme.split("<!-- parity:start -->")[1].split("<!-- parity:end -->")[0]
    listed = set(re.findall(r"^\| [^|]+ \| [^|]+ \| `([\w-]+)` \(", block, flags=re.M))
    assert listed == {path.stem for path in FIXTURES}
