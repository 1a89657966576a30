import torch
from torch import nn

from skeleton_models import STGCNConfig, STGCNForSkeletonClassification, STGCNModel

from .model_tester import ModelTesterMixin


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
