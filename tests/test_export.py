"""Export to ONNX (checked with onnxruntime on other batch sizes and frame counts) and to torch.export programs,
for every registered classifier, and the `skeleton-models export` command."""

import importlib.util
import shutil

import pytest
import torch

from skeleton_models import ARCHITECTURES
from skeleton_models.cli import main
from skeleton_models.export import check_onnx, export_model, exported_inputs

from .model_tester import processor_for

try:  # the export extra
    import onnx
    from onnx import numpy_helper
except ImportError:  # pragma: no cover
    onnx = numpy_helper = None

CLASSIFIERS = sorted(t for t, a in ARCHITECTURES.items() if a.classification_class is not None)
needs_onnx = pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnxscript") is None,
    reason='pip install "skeleton-models[export]"',
)


def tiny(model_type):
    arch = ARCHITECTURES[model_type]
    torch.manual_seed(0)
    return arch.classification_class(arch.tiny()).eval()


@needs_onnx
@pytest.mark.parametrize("model_type", CLASSIFIERS)
def test_onnx_export_equals_pytorch_on_other_input_sizes(model_type, tmp_path):
    model = tiny(model_type)
    path = export_model(model, tmp_path / "model.onnx", batch_size=2, frames=32)
    assert check_onnx(path, model, batch_size=3, frames=48) < 1e-4  # batch 3 (and 48 frames where dynamic)


def test_dynamic_axes_follow_the_architecture():
    _, gcn = exported_inputs(tiny("hglnet"))
    _, vit = exported_inputs(tiny("gfp"))
    assert set(gcn["skeletons"]) == {0, 2} and set(vit["skeletons"]) == {0}  # GFP's grid is fixed to its frames


def test_torch_export_program_runs_on_another_batch(tmp_path):
    model = tiny("stgcn")
    path = export_model(model, tmp_path / "model.pt2", format="torch.export")
    program = torch.export.load(str(path))
    inputs, _ = exported_inputs(model, batch_size=5, frames=40)
    torch.testing.assert_close(program.module()(*inputs.values()), model(**inputs).logits, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="format"):
        export_model(model, tmp_path / "model.tflite", format="tflite")


@needs_onnx
def test_the_export_command(tmp_path, capsys):
    model = tiny("shiftgcn")
    model.save_pretrained(tmp_path / "checkpoint")
    processor_for(model.config, 16).save_pretrained(tmp_path / "checkpoint")
    assert (
        main(["export", "--model", str(tmp_path / "checkpoint"), "--output-dir", str(tmp_path / "out"), "--check"]) == 0
    )
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"model.onnx", "config.json", "preprocessor_config.json"}
    assert "largest |logit difference|" in capsys.readouterr().out


def saved(model, folder):
    model.save_pretrained(folder)
    processor_for(model.config, 16).save_pretrained(folder)
    return folder


def perturbed_export(model, path, format="onnx"):
    """`export_model`, then the classifier's weights in the ONNX file changed by 0.1: a deliberately broken export."""
    path = export_model(model, path, format)
    graph = onnx.load(str(path))
    (weight,) = [t for t in graph.graph.initializer if t.name.endswith("classifier.weight")]
    weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) + 0.1, weight.name))
    onnx.save(graph, str(path))
    return path


@needs_onnx
def test_the_export_check_fails_beyond_its_tolerance(tmp_path, monkeypatch, capsys):
    checkpoint = saved(tiny("shiftgcn"), tmp_path / "checkpoint")
    monkeypatch.setattr("skeleton_models.cli.export_model", perturbed_export)
    args = ["export", "--model", str(checkpoint), "--output-dir", str(tmp_path / "out"), "--check"]
    message = r"model.onnx: the exported model's logits differ from PyTorch's by up to .*, more than the .* accepted"
    with pytest.raises(SystemExit, match=message):
        main(args)
    assert "largest |logit difference|" in capsys.readouterr().out
    assert main([*args, "--atol", "100"]) == 0  # the same difference, accepted by a looser tolerance
    with pytest.raises(SystemExit, match=message):
        main([*args, "--atol", "0", "--rtol", "0"])  # and refused by a stricter one


def test_export_refuses_a_config_that_does_not_match_the_weights(tmp_path):
    saved(tiny("hglnet"), tmp_path / "hglnet")
    saved(tiny("stgcn"), tmp_path / "stgcn")
    shutil.copy(tmp_path / "stgcn" / "config.json", tmp_path / "hglnet" / "config.json")
    args = ["export", "--model", str(tmp_path / "hglnet"), "--output-dir", str(tmp_path / "out")]
    with pytest.raises(SystemExit, match=rf"^error: {tmp_path / 'hglnet'}: the weights do not match config.json"):
        main([*args, "--format", "torch.export"])
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit, match="--check compares onnxruntime's logits.*only with --format onnx"):
        main([*args, "--format", "torch.export", "--check"])
