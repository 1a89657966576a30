import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skeleton_models import ShiftGCNConfig, ShiftGCNForSkeletonClassification, ShiftGCNModel
from skeleton_models.conversion import ConversionError, convert_official
from skeleton_models.layers import AdaptiveTemporalShift, NonLocalSpatialShift

from .model_tester import ModelTesterMixin
from .test_parity import REFERENCE, read_fixture


class TestShiftGCN(ModelTesterMixin):
    model_type = "shiftgcn"

    def expected_output_shapes(self, config, model_class):
        n, t, c = self.batch_size, self.frames, config.hidden_sizes[-1]
        if model_class is ShiftGCNModel:  # temporal strides 1, 2, 1
            return {"last_hidden_state": (n, c, t // 2, 25, 2), "pooler_output": (n, c)}
        return {"logits": (n, config.num_labels), "pooler_output": (n, c)}


def official_parameter_count(num_class=60, num_joints=25, num_persons=2, in_channels=3) -> int:
    """The trainable parameters of kchengiva/Shift-GCN model/shift_gcn.py's Model, layer by layer from its code (its
    index arrays are registered as frozen nn.Parameters there and not counted here)."""
    channels = [in_channels, 64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    strides = [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    total = 2 * num_persons * num_joints * in_channels  # data_bn
    for i, stride in enumerate(strides):
        c_in, c = channels[i], channels[i + 1]
        gcn = c_in * c + c + num_joints * c_in + 2 * num_joints * c  # Linear_weight, Linear_bias, Feature_Mask, bn
        gcn += (c_in * c + c + 2 * c) if c_in != c else 0  # down
        tcn = 2 * c + 2 * c + (c * c + c) + 2 * c + 2 * c  # bn, shift_in, temporal_linear, shift_out, bn2
        residual = (c_in * c + c + 2 * c) if i > 0 and (c_in != c or stride != 1) else 0
        total += gcn + tcn + residual
    return total + 256 * num_class + num_class  # fc


def test_paper_size_matches_the_official_code():
    model = ShiftGCNForSkeletonClassification(ShiftGCNConfig())
    assert sum(p.numel() for p in model.parameters()) == official_parameter_count() == 693_107
    assert model.classifier.in_features == 256


def test_spatial_shift_is_the_official_index_select():
    """model/shift_gcn.py builds shift_in[i*C + j] = (i*C + j + j*C) % (C*V) (and - j*C for shift_out) and
    index-selects the (N*T, V*C) features."""
    c, v = 6, 25
    x = torch.randn(2, c, 3, v)
    flat = x.permute(0, 2, 3, 1).reshape(2 * 3, v * c)
    for direction in (1, -1):
        index = np.array([(i * c + j + direction * j * c) % (c * v) for i in range(v) for j in range(c)])
        expected = flat[:, torch.from_numpy(index)].view(2, 3, v, c).permute(0, 3, 1, 2)
        torch.testing.assert_close(NonLocalSpatialShift(c, v, direction)(x), expected)
    with pytest.raises(ValueError, match="direction must be 1 or -1"):
        NonLocalSpatialShift(c, v, 2)


def reference_shift(x, xpos, ypos, stride):
    """The CUDA kernel's forward (shift_cuda_kernel.cu) written as loops: bilinear, zero outside, T // stride."""
    b, c, t, v = x.shape
    out = torch.zeros(b, c, t // stride, v, dtype=x.dtype)
    for ch in range(c):
        y = float(ypos[ch]) + (0.5 if stride > 1 else 0.0)
        xx = float(xpos[ch])
        y1, x1 = int(np.floor(y)), int(np.floor(xx))
        dy, dx = y - y1, xx - x1
        for h in range(t // stride):
            for w in range(v):
                val = 0.0
                for yy, xw, weight in (
                    (y1, x1, (1 - dx) * (1 - dy)),
                    (y1, x1 + 1, dx * (1 - dy)),
                    (y1 + 1, x1, (1 - dx) * dy),
                    (y1 + 1, x1 + 1, dx * dy),
                ):
                    hi, wi = h * stride + yy, w + xw
                    if 0 <= hi < t and 0 <= wi < v:
                        val = val + weight * x[:, ch, hi, wi]
                out[:, ch, h, w] = val
    return out


@pytest.mark.parametrize("stride", [1, 2])
def test_temporal_shift_is_the_official_kernel(stride):
    torch.manual_seed(0)
    shift = AdaptiveTemporalShift(5, stride=stride, init_scale=2.5)
    shift._reset_parameters()
    with torch.no_grad():
        shift.xpos.copy_(torch.tensor([0.0, 0.3, -1.7, 2.2, 0.0]))  # the joint offsets train too
    x = torch.randn(2, 5, 8, 6, dtype=torch.float64)
    out = shift.double()(x)
    torch.testing.assert_close(out, reference_shift(x, shift.xpos.detach(), shift.ypos.detach(), stride))
    out.sum().backward()  # the offsets learn through the interpolation weights
    assert shift.ypos.grad.abs().sum() > 0 and shift.xpos.grad.abs().sum() > 0
    assert (shift.ypos.detach().abs() <= 2.5).all()


def test_odd_frame_counts_keep_the_residual_aligned():
    """Stride 2 over 15 frames: output frame h adds the residual of input frame 2h (a strided 1x1 convolution and
    BatchNorm over frames 0, 2, ..., 14) to the temporal branch centred on the same frame (its strided shift, with
    offset -0.5, reads frame 2h exactly), up to the last frame, 14."""
    torch.manual_seed(0)
    model = ShiftGCNModel(ShiftGCNConfig(hidden_sizes=[8, 16], strides=[1, 2])).eval()
    assert model(torch.randn(1, 3, 15, 25, 2)).last_hidden_state.shape == (1, 16, 8, 25, 2)
    block = model.blocks[1]  # 8 -> 16 channels, stride 2
    tcn, residual = block.tcn, block.residual
    with torch.no_grad():
        tcn.shift_out.ypos.fill_(-0.5)  # frame h * 2 + ypos + 0.5 = 2h
        tcn.shift_out.xpos.zero_()
        for norm in (tcn.bn2, residual.bn):  # statistics away from the identity
            norm.running_mean.uniform_(-0.5, 0.5)
            norm.running_var.uniform_(0.5, 1.5)
        x = torch.randn(2, 8, 15, 25)
        branch = F.relu(tcn.linear(tcn.shift_in(tcn.bn(block.gcn(x)))))  # all 15 frames, before the strided shift
        shortcut = residual.bn(F.conv2d(x[:, :, ::2], residual.conv.weight, residual.conv.bias))  # frames 0, 2, ..
        expected = F.relu(tcn.bn2(branch[:, :, ::2]) + shortcut)
        torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)


def test_the_conversion_rebuilds_the_official_spatial_shift_and_refuses_another():
    """The official checkpoints hold Shift_gcn's index arrays (frozen nn.Parameters, model/shift_gcn.py lines
    108-118): not weights -- our shift builds them from the channel count -- but a checkpoint whose arrays are not
    the official shift cannot be reproduced and is refused by name."""
    official, inputs, _, _ = read_fixture(REFERENCE / "shiftgcn.safetensors")
    model = convert_official("shiftgcn", official)
    assert model.config.hidden_sizes == [8, 8, 8, 8, 16, 16, 16, 32, 32, 32] and model.config.num_labels == 5
    for unit, block in enumerate(model.shiftgcn.blocks, start=1):
        for name in ("shift_in", "shift_out"):
            source = getattr(block.gcn, name).source  # (C, V): the joint each channel of each joint reads
            c, v = source.shape
            index = official[f"l{unit}.gcn1.{name}"].view(v, c)  # joint-major (V C) features, as the code's
            assert torch.equal(index // c, source.T) and torch.equal(index % c, torch.arange(c).expand(v, c))
    tampered = {**official, "l3.gcn1.shift_out": official["l3.gcn1.shift_out"].roll(1)}
    with pytest.raises(ConversionError, match=r"l3\.gcn1\.shift_out is not Shift-GCN's non-local shift of 8"):
        convert_official("shiftgcn", tampered)
    with pytest.raises(ConversionError, match="not a Shift-GCN Model state dict"):
        convert_official("shiftgcn", {k: v for k, v in official.items() if not k.startswith("l10.")})
