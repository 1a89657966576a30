"""The common model tests every architecture gets (in the spirit of transformers' ``ModelTesterMixin``).

An architecture's test file subclasses `ModelTesterMixin` with its ``model_type`` and says what shapes its outputs
have (`expected_output_shapes`); every test below then runs for its base model and each task model (the conftest's
``pytest_generate_tests`` parametrises ``model_class`` over the architecture's registry record). Nothing here
assumes a classification head: the inputs come from the configuration's ``input_specs`` and a loss is expected
where the model class lists ``loss_input_names`` or says its forward always computes one.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import ProcessorMixin, Trainer, TrainingArguments

from skeleton_models import ARCHITECTURES, SkeletonProcessor
from skeleton_models.modeling_utils import make_dummy_inputs
from skeleton_models.registry import register_architecture
from skeleton_models.remote_code import remote_code_auto_map, remote_code_files, write_modeling
from skeleton_models.skeletons import get_layout
from skeleton_models.testing_utils import train_bpe_tokenizer

ROOT = Path(__file__).resolve().parents[1]
MODELING = ROOT / "modeling"


def forward_kwargs(model_class, inputs: dict) -> dict:
    """The inputs a model class's forward takes."""
    accepted = inspect.signature(model_class.forward).parameters
    return {k: v for k, v in inputs.items() if k in accepted}


def tensor_outputs(output) -> dict[str, torch.Tensor]:
    """The tensor fields of a model output (tuples of tensors flattened as ``name.i``)."""
    flat = {}
    for key, value in output.items():
        if isinstance(value, torch.Tensor):
            flat[key] = value
        elif isinstance(value, tuple):
            flat.update({f"{key}.{i}": v for i, v in enumerate(value) if isinstance(v, torch.Tensor)})
    return flat


def processor_for(config, frames: int = 16):
    """A processor of the configuration's architecture for its inputs (a text processor gets a small offline
    tokenizer)."""
    inputs = [
        {
            "name": spec.name,
            "column": "skeleton" if spec.name == "skeletons" else spec.name,
            "layout": spec.layout,
            "num_persons": spec.persons or 2,
            "coordinate_dims": min(spec.channels, 3),
        }
        for spec in config.input_specs
        if spec.kind == "skeleton"
    ]
    images = [{"name": spec.name} for spec in config.input_specs if spec.kind == "image"]
    skeletons = SkeletonProcessor(inputs=inputs, image_inputs=images, window_size=frames)
    processor_class = ARCHITECTURES[config.model_type].processor_class
    if issubclass(processor_class, ProcessorMixin):
        return processor_class(skeletons, train_bpe_tokenizer(["a person waves", "two people shake hands"]))
    return skeletons


def point_auto_maps(data, code_repo):
    """A saved JSON configuration with every ``auto_map`` entry pointing at a code repository."""
    if isinstance(data, dict):
        return {
            k: {a: f"{code_repo}--{e}" for a, e in v.items()} if k == "auto_map" else point_auto_maps(v, code_repo)
            for k, v in data.items()
        }
    return data


class ModelTesterMixin:
    """Set ``model_type`` (or ``architecture``, for an architecture that is registered only while its tests run)
    and implement `expected_output_shapes`."""

    model_type: str = ""
    architecture = None  # an Architecture to register for the duration of the tests instead of a registered one
    batch_size = 2
    frames = 16
    # Parameters a model class may leave without gradient in a loss step (e.g. a head that only some inputs use).
    unused_parameters: tuple[str, ...] = ()

    # -- what a subclass says -------------------------------------------------------------------------------------
    def expected_output_shapes(self, config, model_class) -> dict[str, tuple[int, ...]]:
        """The documented output shapes for the tiny configuration on `make_inputs` (field -> shape)."""
        raise NotImplementedError

    def freezing_overrides(self) -> list[dict]:
        """Configuration overrides under which the model freezes something (checked to survive a reload)."""
        return [{}]

    def fullgraph_overrides(self, model_class) -> dict:
        """Configuration overrides for the ``fullgraph=True`` compile test: a documented, data-dependent step that
        graph-breaks on purpose, switched off (e.g. pre-training that drops the padding persons of a batch)."""
        return {}

    # -- helpers ----------------------------------------------------------------------------------------------------
    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _registered(cls):
        arch = cls.architecture
        if arch is None or arch.model_type in ARCHITECTURES:
            yield
            return
        register_architecture(arch)
        yield
        ARCHITECTURES.pop(arch.model_type)

    @classmethod
    def arch(cls):
        return cls.architecture or ARCHITECTURES[cls.model_type]

    def get_config(self, **overrides):
        return self.arch().tiny(**overrides)

    def build(self, model_class, config=None, seed: int = 0):
        torch.manual_seed(seed)
        return model_class(config if config is not None else self.get_config()).eval()

    def make_inputs(self, config, model_class, with_loss: bool = False, seed: int = 0) -> dict[str, torch.Tensor]:
        generator = torch.Generator().manual_seed(seed)
        loss_inputs = getattr(model_class, "loss_input_names", ()) if with_loss else ()
        inputs = make_dummy_inputs(config, self.batch_size, self.frames, loss_inputs, generator=generator)
        return forward_kwargs(model_class, inputs)

    def computes_loss(self, model_class) -> bool:
        return bool(getattr(model_class, "loss_input_names", ())) or getattr(model_class, "always_computes_loss", False)

    def make_processor(self, config):
        return processor_for(config, self.frames)

    # -- the tests ------------------------------------------------------------------------------------------------
    def test_registry_record(self):
        arch = self.arch()
        assert arch.config_class.model_type == arch.model_type
        assert arch.base_model_class in arch.model_classes
        for name, cls in arch.task_classes.items():
            assert hasattr(transformers, name), name
            assert cls.config_class is arch.config_class
        for name in arch.presets:
            assert arch.config_class.from_preset(name).model_type == arch.model_type

    def test_builds_from_the_tiny_config(self, model_class):
        model = self.build(model_class)
        assert sum(p.numel() for p in model.parameters()) > 0
        assert model.accepts_loss_kwargs is False  # the Trainer must not rescale a per-batch mean loss
        assert model.main_input_name in model.dummy_inputs

    def test_forward_output_shapes(self, model_class):
        config = self.get_config()
        model = self.build(model_class, config)
        inputs = self.make_inputs(config, model_class)
        with torch.no_grad():
            out = model(**inputs)
            hidden = model(**inputs, output_hidden_states=True).hidden_states
        expected = self.expected_output_shapes(config, model_class)
        assert expected, "expected_output_shapes must name the outputs"
        for field, shape in expected.items():
            assert tuple(getattr(out, field).shape) == tuple(shape), field
        assert "hidden_states" in out.__dataclass_fields__ and out.hidden_states is None
        assert isinstance(hidden, tuple) and hidden and all(torch.isfinite(h).all() for h in hidden)
        if "last_hidden_state" in out.__dataclass_fields__:
            assert next(iter(out.__dataclass_fields__)) == "last_hidden_state"  # feature outputs lead with it
        else:
            assert next(iter(out.__dataclass_fields__)) == "loss"  # task outputs lead with the loss

    def test_loss_and_gradients(self, model_class):
        if not self.computes_loss(model_class):
            pytest.skip(f"{model_class.__name__} computes no loss")
        config = self.get_config()
        model = self.build(model_class, config).train()
        out = model(**self.make_inputs(config, model_class, with_loss=True))
        assert out.loss is not None and out.loss.dim() == 0 and torch.isfinite(out.loss)
        out.loss.backward()
        for name, parameter in model.named_parameters():
            if not parameter.requires_grad or any(name.startswith(u) for u in self.unused_parameters):
                continue
            assert parameter.grad is not None, f"{name} got no gradient"
            assert torch.isfinite(parameter.grad).all(), name

    def test_save_and_load_give_identical_outputs(self, model_class, tmp_path):
        config = self.get_config()
        model = self.build(model_class, config)
        inputs = self.make_inputs(config, model_class)
        with torch.no_grad():
            expected = tensor_outputs(model(**inputs))
        model.save_pretrained(tmp_path)
        assert (tmp_path / "model.safetensors").exists() and not list(tmp_path.glob("*.bin"))
        auto = next(
            k
            for k, v in {"AutoModel": self.arch().base_model_class, **self.arch().task_classes}.items()
            if v is model_class
        )
        for loader in (model_class, getattr(transformers, auto)):
            loaded = loader.from_pretrained(tmp_path).eval()
            assert type(loaded) is model_class
            with torch.no_grad():
                actual = tensor_outputs(loaded(**inputs))
            assert actual.keys() == expected.keys()
            for key in expected:
                torch.testing.assert_close(actual[key], expected[key], msg=key)
            for name, buffer in model.named_buffers():  # non-persistent buffers are rebuilt, not left empty
                torch.testing.assert_close(loaded.get_buffer(name), buffer, msg=name)

    def test_gradient_checkpointing_gives_the_same_gradients(self, model_class):
        if not self.computes_loss(model_class):
            pytest.skip(f"{model_class.__name__} computes no loss")
        config = self.get_config()
        model = self.build(model_class, config).train()
        inputs = self.make_inputs(config, model_class, with_loss=True)
        torch.manual_seed(0)  # the same dropout masks in both passes
        model(**inputs).loss.backward()
        reference = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        model.zero_grad()
        model.activation_checkpointing_enable()
        assert any(getattr(m, "gradient_checkpointing", False) for m in model.modules())
        torch.manual_seed(0)
        model(**inputs).loss.backward()
        for name, parameter in model.named_parameters():
            if name in reference:
                torch.testing.assert_close(parameter.grad, reference[name], msg=name)

    def test_bad_inputs_raise_a_clear_error(self, model_class):
        config = self.get_config()
        model = self.build(model_class, config)
        inputs = self.make_inputs(config, model_class)
        for spec in config.input_specs:
            if spec.kind != "skeleton" or spec.name not in inputs:
                continue
            good = inputs[spec.name]
            v = get_layout(spec.layout).num_joints
            bad = {
                "4-D": good[..., 0],
                "wrong layout": torch.randn(*good.shape[:3], v + 1, good.shape[4]),
                "NaN": good.clone().index_fill_(2, torch.tensor([0]), float("nan")),
                "integer dtype": good.long(),
            }
            for case, value in bad.items():
                with pytest.raises(ValueError) as error:
                    model(**{**inputs, spec.name: value})
                message = str(error.value)
                assert f"`{spec.name}`" in message, (case, message)
                if case != "NaN":
                    assert f"V={v}" in message and spec.layout in message, (case, message)

    def test_custom_initialisation_ran(self, model_class):
        """Every module's own ``_reset_parameters`` ran (transformers 5 skips modules without parameters of their
        own): each tensor it initialises has the statistics that the module's init gives it."""
        model = self.build(model_class)
        reference = copy.deepcopy(model)
        tensors = lambda m: dict(m.named_parameters()) | dict(m.named_buffers())  # noqa: E731
        with torch.no_grad():
            for tensor in tensors(reference).values():
                if tensor.is_floating_point():
                    tensor.fill_(float("nan"))
            for module in reversed(list(reference.modules())):  # children before parents, as transformers does
                if hasattr(module, "_reset_parameters") and not isinstance(module, nn.MultiheadAttention):
                    module._reset_parameters()
        actual, checked = tensors(model), 0
        for name, ref in tensors(reference).items():
            if not ref.is_floating_point() or torch.isnan(ref).all():
                continue  # not set by a custom initialisation
            got = actual[name].detach().float()
            ref = ref.detach().float()
            if ref.numel() == 1 or bool((ref == ref.flatten()[0]).all()) or ref.std() == 0:
                torch.testing.assert_close(got, ref, msg=f"{name}: constant initialisation")
            elif ref.numel() >= 16:  # two samples of the same init: their stds are within 3x (p > 1 - 1e-6)
                ratio = float(got.std() / ref.std())
                assert abs(math.log(ratio)) < math.log(3), f"{name}: std {got.std():.4f}, expected ~{ref.std():.4f}"
                tolerance = 6 * float(max(ref.std(), got.std())) / math.sqrt(ref.numel()) + 1e-6
                assert abs(float(got.mean() - ref.mean())) < tolerance, f"{name}: mean {got.mean():.4f}"
            checked += 1
        assert checked > 0 or not any(hasattr(m, "_reset_parameters") for m in model.modules())

    def test_freezing_survives_reload(self, model_class, tmp_path):
        for i, overrides in enumerate(self.freezing_overrides()):
            config = self.get_config(**overrides)
            model = self.build(model_class, config)
            frozen = {n: p.requires_grad for n, p in model.named_parameters()}
            model.save_pretrained(tmp_path / str(i))
            loaded = model_class.from_pretrained(tmp_path / str(i))
            assert {n: p.requires_grad for n, p in loaded.named_parameters()} == frozen, overrides
            if overrides:  # the same policy, given as a config override when loading an unfrozen checkpoint
                plain = self.build(model_class)
                plain.save_pretrained(tmp_path / f"{i}-plain")
                reloaded = model_class.from_pretrained(tmp_path / f"{i}-plain", **overrides)
                assert {n: p.requires_grad for n, p in reloaded.named_parameters()} == frozen, overrides

    def test_no_loss_rescaling_under_gradient_accumulation(self, model_class, tmp_path):
        """With gradient accumulation the Trainer divides a per-batch mean loss by the number of steps, and must
        not let the model rescale it (what a forward with ``**kwargs`` and ``accepts_loss_kwargs`` would do)."""
        if not self.computes_loss(model_class):
            pytest.skip(f"{model_class.__name__} computes no loss")
        config = self.get_config()
        inputs = self.make_inputs(config, model_class, with_loss=True)
        model = self.build(model_class, config).train()
        torch.manual_seed(0)  # the same dropout masks in both passes
        (model(**inputs).loss / 4).backward()
        expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        model = self.build(model_class, config)
        args = TrainingArguments(str(tmp_path), gradient_accumulation_steps=4, use_cpu=True, report_to="none")
        trainer = Trainer(model=model, args=args)
        trainer.current_gradient_accumulation_steps = 4  # as the training loop sets it for each update step
        torch.manual_seed(0)
        trainer.training_step(model, dict(inputs), num_items_in_batch=torch.tensor(4 * self.batch_size))
        for name, parameter in model.named_parameters():
            if name in expected:
                torch.testing.assert_close(parameter.grad, expected[name], msg=name)

    def test_compiles_without_graph_breaks(self, model_class):
        """``torch.compile(fullgraph=True)`` of forward and backward (backend aot_eager: no C compiler needed)
        fails on any graph break, e.g. a Python branch on a tensor value or a host-device synchronisation."""
        torch._dynamo.reset()
        config = self.get_config(**self.fullgraph_overrides(model_class))
        model = self.build(model_class, config).train()
        inputs = self.make_inputs(config, model_class, with_loss=self.computes_loss(model_class))
        compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
        out = compiled(**inputs)
        reference = self.build(model_class, config).train()(**inputs)
        key = (
            "loss" if self.computes_loss(model_class) else next(iter(self.expected_output_shapes(config, model_class)))
        )
        torch.testing.assert_close(out[key], reference[key], rtol=1e-4, atol=1e-4)
        if self.computes_loss(model_class):
            out.loss.backward()
            for name, parameter in model.named_parameters():
                if parameter.requires_grad and not any(name.startswith(u) for u in self.unused_parameters):
                    assert parameter.grad is not None, f"{name} got no gradient"

    def test_bf16_autocast_training_step(self, model_class):
        """A training step under bfloat16 autocast (the GPU recipe; checked with CPU autocast) gives finite
        gradients in the parameters' float32."""
        if not self.computes_loss(model_class):
            pytest.skip(f"{model_class.__name__} computes no loss")
        config = self.get_config()
        model = self.build(model_class, config).train()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(**self.make_inputs(config, model_class, with_loss=True)).loss
        assert torch.isfinite(loss)
        loss.float().backward()
        for name, parameter in model.named_parameters():
            if parameter.requires_grad and parameter.grad is not None:
                assert parameter.grad.dtype == torch.float32 and torch.isfinite(parameter.grad).all(), name

    def test_remote_code_gives_identical_outputs(self, tmp_path):
        """A saved folder loads where skeleton_models cannot be imported, by every Auto class of the architecture,
        with its code next to the weights and with the code in a separate code repository (the ``modeling/``
        bundle, ``"<repo>--<module>.<Class>"``); outputs, processor outputs and re-saved weights are identical."""
        arch = self.arch()
        config = self.get_config()
        top = next(iter(arch.task_classes.values()), arch.base_model_class)
        model = self.build(top, config)
        processor = self.make_processor(config)
        folder = tmp_path / "checkpoint"
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        auto_map = json.loads((folder / "config.json").read_text())["auto_map"]
        assert auto_map == remote_code_auto_map(arch.model_type)
        cases = {}
        for auto in auto_map:
            if auto == "AutoConfig":
                continue
            cls = arch.base_model_class if auto == "AutoModel" else arch.task_classes[auto]
            loaded, info = getattr(transformers, auto).from_pretrained(folder, output_loading_info=True)
            inputs = self.make_inputs(config, cls)
            with torch.no_grad():
                outputs = tensor_outputs(loaded.eval()(**inputs))
            # A task class with weights the saved one lacks (e.g. GFP's pre-training decoder in a classifier's
            # checkpoint) starts them at random: it must load and run, but its outputs are not comparable.
            cases[auto] = (inputs, {} if info["missing_keys"] else outputs)
        skeleton_processor = getattr(processor, "feature_extractor", processor)
        clips = {  # one clip per named skeleton input (e.g. body and hands), same length
            spec["name"]: torch.randn(30, spec["num_persons"], get_layout(spec["layout"]).num_joints, 3).numpy()
            for spec in skeleton_processor.inputs
        }
        for spec in config.input_specs:  # and one image per image input (e.g. BHaRNet-M's ROI mosaic)
            if spec.kind == "image":
                clips[spec.name] = torch.randint(0, 256, (*spec.size, 3), dtype=torch.uint8).numpy()
        processed = {k: torch.as_tensor(v) for k, v in skeleton_processor(**clips).items()}
        if skeleton_processor is not processor:  # a text processor: its tokenisation too
            processed.update({f"text/{k}": v for k, v in processor(text=["a person waves"]).items()})
        save_file(
            {f"{auto}/in/{k}": v.contiguous() for auto, (i, _) in cases.items() for k, v in i.items()}
            | {f"{auto}/out/{k}": v.contiguous() for auto, (_, o) in cases.items() for k, v in o.items()}
            | {f"processor/{k}": v.contiguous() for k, v in processed.items()}
            | {f"clip/{k}": torch.from_numpy(v) for k, v in clips.items()},
            tmp_path / "expected.safetensors",
        )
        with safe_open(folder / "model.safetensors", "pt") as f:
            saved_keys = sorted(f.keys())
        # The same checkpoint without code: its auto_map points at the code repository, the committed modeling/
        # bundle (an architecture outside it, like the tests' dummy, gets a bundle generated the same way).
        code_repo = MODELING
        if not all((MODELING / name).exists() for name in remote_code_files(arch.model_type)):
            code_repo = tmp_path / "code"
            write_modeling(code_repo)
        linked = tmp_path / "linked"
        shutil.copytree(folder, linked, ignore=shutil.ignore_patterns("*.py"))
        for path in linked.glob("*.json"):
            path.write_text(json.dumps(point_auto_maps(json.loads(path.read_text()), code_repo)))
        script = REMOTE_SCRIPT.format(
            folders=[str(folder), str(linked)],
            expected=str(tmp_path / "expected.safetensors"),
            resaved=str(tmp_path / "resaved"),
            threads=torch.get_num_threads(),
        )
        env = dict(os.environ, HF_HOME=tempfile.mkdtemp(), HF_HUB_OFFLINE="1")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert sorted(report["loaded"]) == sorted(f"{f}:{a}" for f in ("checkpoint", "linked") for a in cases)
        # A remote-code model saves exactly what the library saves: the same tensors, value for value.
        saved, resaved = load_file(folder / "model.safetensors"), load_file(tmp_path / "resaved" / "model.safetensors")
        assert sorted(resaved) == saved_keys
        changed = [k for k in saved_keys if saved[k].dtype != resaved[k].dtype or not torch.equal(saved[k], resaved[k])]
        assert not changed, f"re-saved weights differ from the saved ones: {changed}"


REMOTE_SCRIPT = """
import json, sys
sys.modules["skeleton_models"] = None  # importing the library fails in this process
import numpy as np, torch, transformers
torch.set_num_threads({threads})  # as the test process: the same summation order
from safetensors.torch import load_file
expected = load_file({expected!r})
clips = {{k.split("/", 1)[1]: v.numpy() for k, v in expected.items() if k.startswith("clip/")}}
loaded = []
for folder in {folders!r}:
    name = folder.rsplit("/", 1)[-1]
    auto_map = json.load(open(folder + "/config.json"))["auto_map"]
    for auto in auto_map:
        if auto == "AutoConfig":
            continue
        model = getattr(transformers, auto).from_pretrained(folder, trust_remote_code=True).eval()
        assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
        inputs = {{k.split("/")[-1]: v for k, v in expected.items() if k.startswith(auto + "/in/")}}
        with torch.no_grad():
            out = model(**inputs)
        for key, value in expected.items():
            if key.startswith(auto + "/out/"):
                field = key.split("/")[-1]
                got = out[field.split(".")[0]]
                got = got[int(field.split(".")[1])] if "." in field else got
                torch.testing.assert_close(got, value, msg=f"{{name}} {{auto}} {{field}}")
        loaded.append(f"{{name}}:{{auto}}")
    resave_case = (model, auto, inputs, out)
    processor = transformers.AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=True)
    assert type(processor).__module__.startswith("transformers_modules"), type(processor).__module__
    for key, value in processor(**clips).items():
        torch.testing.assert_close(torch.as_tensor(value), expected["processor/" + key], msg=key)
    if any(k.startswith("processor/text/") for k in expected):
        text_processor = transformers.AutoProcessor.from_pretrained(folder, trust_remote_code=True)
        assert type(text_processor).__module__.startswith("transformers_modules"), type(text_processor).__module__
        for key, value in text_processor(text=["a person waves"]).items():
            torch.testing.assert_close(value, expected["processor/text/" + key], msg=key)
# The last remote-code model, saved again and reloaded: every tensor of its state and every output as before.
model, auto, inputs, out = resave_case
model.save_pretrained({resaved!r})
reloaded = type(model).from_pretrained({resaved!r}).eval()
state, state_again = model.state_dict(), reloaded.state_dict()
assert sorted(state) == sorted(state_again), sorted(set(state) ^ set(state_again))
for key, value in state.items():
    assert torch.equal(value, state_again[key]), key
with torch.no_grad():
    out_again = reloaded(**inputs)
for field, value in out.items():
    if isinstance(value, torch.Tensor):
        assert torch.equal(value, out_again[field]), f"re-saved {{auto}} {{field}}"
print(json.dumps({{"loaded": loaded}}))
"""
