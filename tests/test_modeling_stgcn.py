import numpy as np
import pytest
import torch
from torch import nn

from skeleton_models import SkeletonProcessor, STGCNConfig, STGCNForSkeletonClassification, STGCNModel
from skeleton_models.conversion import ConversionError, convert_official, get_conversion
from skeleton_models.layers import stgcn_spatial_graph

from .model_tester import ModelTesterMixin
from .test_parity import REFERENCE, read_fixture


class TestSTGCN(ModelTesterMixin):
    model_type = "stgcn"

    def expected_output_shapes(self, config, model_class):
        n, t, c = self.batch_size, self.frames, config.hidden_sizes[-1]
        if model_class is STGCNModel:  # temporal strides 1, 2, 1
            return {"last_hidden_state": (n, c, t // 2, 25, 2), "pooler_output": (n, c)}
        return {"logits": (n, config.num_labels), "pooler_output": (n, c)}


def test_paper_size_matches_the_official_code():
    """yysijie/st-gcn @ 221c0e1, net/st_gcn.py Model(in_channels=3, num_class=60, graph 'ntu-rgb+d' 'spatial',
    edge_importance_weighting=True) has 3,098,832 parameters (counted by constructing it); 256-d features."""
    model = STGCNForSkeletonClassification(STGCNConfig())
    assert sum(p.numel() for p in model.parameters()) == 3_098_832
    assert model.stgcn.data_bn.num_features == 75  # one input BatchNorm over (V C), shared by the persons
    assert model.classifier.in_features == 256
    dropouts = [block.dropout.p for block in model.stgcn.blocks]
    assert dropouts == [0.0] + [0.5] * 9 and model.stgcn.blocks[0].residual is None
    official = torch.from_numpy(stgcn_spatial_graph("ntu25", "official"))
    assert all(torch.equal(block.gcn.graph, official) for block in model.stgcn.blocks)


def subsets(graph: np.ndarray) -> dict[tuple[int, int], int]:
    """(output joint, input joint) -> the subset that holds the pair."""
    return {(u, v): int(k) for k, u, v in zip(*np.nonzero(graph))}


def test_the_official_partition_is_the_official_codes():
    """Facts of yysijie/st-gcn@221c0e1 net/utils/graph.py, Graph(layout="ntu-rgb+d", strategy="spatial").A (centre
    joint 21, 1-based; max_hop=1): its subsets hold 25 / 40 / 8 non-zero weights, every joint's weights sum to 1
    over the subsets, and 16 (joint, neighbour) pairs sit in another subset than with exact distances to the
    centre. The 8 centripetal pairs are the centre's neighbours (1-based 2, 3, 5, 9) reading the centre and the
    joints one bone further out (1, 4, 6, 10) reading them; beyond, every joint is "as far" as its neighbours."""
    graph = stgcn_spatial_graph("ntu25")
    assert graph.dtype == np.float32 and graph.shape == (3, 25, 25)
    assert [int((g != 0).sum()) for g in graph] == [25, 40, 8]
    np.testing.assert_allclose(graph.sum(axis=(0, 2)), 1.0, rtol=1e-6)
    centripetal = {(u + 1, v + 1) for (u, v), k in subsets(graph).items() if k == 2}
    assert centripetal == {(2, 21), (3, 21), (5, 21), (9, 21), (1, 2), (4, 3), (6, 5), (10, 9)}
    geometric = stgcn_spatial_graph("ntu25", "geometric")
    assert [int((g != 0).sum()) for g in geometric] == [25, 24, 24]
    np.testing.assert_array_equal(geometric.sum(0), graph.sum(0))  # same neighbourhoods and weights
    official, exact = subsets(graph), subsets(geometric)
    assert sum(official[pair] != exact[pair] for pair in official) == 16
    # Graph(layout="openpose", strategy="spatial").A, centre 1 (neck), counted by running the official code
    assert [int((g != 0).sum()) for g in stgcn_spatial_graph("openpose18")] == [18, 25, 9]


def test_the_graph_follows_the_configured_partition():
    tiny = dict(hidden_sizes=[8, 8], strides=[1, 2], temporal_kernel_size=3)
    for partition in ("official", "geometric"):
        model = STGCNModel(STGCNConfig(partition=partition, **tiny))
        expected = torch.from_numpy(stgcn_spatial_graph("ntu25", partition))
        assert all(torch.equal(block.gcn.graph, expected) for block in model.blocks)
    with pytest.raises(ValueError, match="partition must be one of"):
        STGCNConfig(partition="ctrgcn", **tiny)
    with pytest.raises(ValueError, match="partition must be one of"):
        stgcn_spatial_graph("ntu25", "spatial")


def test_initialisation_is_the_official_weights_init():
    torch.manual_seed(0)
    model = STGCNForSkeletonClassification(STGCNConfig())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    weights = torch.cat([c.weight.flatten() for c in convs])
    assert abs(weights.std().item() - 0.02) < 0.001 and all(not c.bias.any() for c in convs if c.bias is not None)
    scales = torch.cat([n.weight for n in norms])
    assert abs(scales.mean().item() - 1.0) < 0.005 and 0.01 < scales.std().item() < 0.03
    assert all(torch.equal(b.gcn.edge_importance, torch.ones_like(b.gcn.edge_importance)) for b in model.stgcn.blocks)


def test_persons_share_the_input_batchnorm():
    """Swapping the persons swaps nothing else: the input normalisation is the same for both (official)."""
    model = STGCNModel(STGCNConfig(hidden_sizes=[8, 8], strides=[1, 1], temporal_kernel_size=3)).eval()
    x = torch.randn(2, 3, 10, 25, 2)
    with torch.no_grad():
        model.data_bn.running_mean.normal_()
        out = model(x).last_hidden_state
        swapped = model(x.flip(-1)).last_hidden_state
    torch.testing.assert_close(swapped, out.flip(-1))


def stgcn_fixture():
    official, inputs, outputs, metadata = read_fixture(REFERENCE / "stgcn.safetensors")
    return official, inputs, outputs, metadata


def test_the_conversion_reads_the_configuration_from_the_weights():
    official, _, outputs, metadata = stgcn_fixture()
    config = convert_official("stgcn", official, **metadata["options"]).config
    assert config.hidden_sizes == [8, 8, 8, 8, 16, 16, 16, 32, 32, 32]  # the fixture's official widths / 8
    assert config.strides == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1] and config.temporal_kernel_size == 9
    assert (config.num_labels, config.in_channels, config.layout, config.partition) == (5, 3, "ntu25", "official")
    # a checkpoint that holds the official graph buffer `A` converts; one with another graph is refused
    convert_official("stgcn", {**official, "A": outputs["graph"]})
    other = torch.from_numpy(stgcn_spatial_graph("ntu25", "geometric")).transpose(-1, -2)
    with pytest.raises(ConversionError, match="graph A .* is not the official spatial graph of 'ntu25'"):
        convert_official("stgcn", {**official, "A": other})
    with pytest.raises(ConversionError, match="layout 'nwucla20' is not a layout of the official code"):
        convert_official("stgcn", official, layout="nwucla20")
    with pytest.raises(ConversionError, match="data_bn has 75 features, not 18 joints"):
        convert_official("stgcn", official, layout="openpose18")
    uniform = {k: v[: v.shape[0] // 3] if k.endswith("gcn.conv.weight") else v for k, v in official.items()}
    with pytest.raises(ConversionError, match="1 subset"):
        convert_official("stgcn", uniform)


def test_the_conversions_processor_reads_clips_as_the_official_ntu_data():
    """tools/ntu_gendata.py: raw coordinates (no centring), 2 bodies, 300 frames; no augmentation in training."""
    official, _, _, metadata = stgcn_fixture()
    config = convert_official("stgcn", official, **metadata["options"]).config
    processor = SkeletonProcessor(**get_conversion("stgcn").processor_kwargs(config))
    assert processor.window_size == 300 and processor.num_persons == 2 and processor.random_rotation == 0.0
    clip = np.random.default_rng(0).normal(size=(300, 2, 25, 3)).astype(np.float32) + 5.0
    out = processor(clip, training=True)["skeletons"]
    assert out.shape == (1, 3, 300, 25, 2)
    order = np.argsort(-clip.var(axis=0).sum(axis=(1, 2)), kind="stable")  # the most active person first
    np.testing.assert_allclose(out[0].permute(1, 3, 2, 0).numpy(), clip[:, order], rtol=1e-6)
