# Generated from skeleton_models/models/bharnet/configuration_bharnet.py by utils/write_modeling.py; do not edit.
"""BHaRNet configuration (Cho & Kim, "Body-Hand Modality Expertized Networks with Cross-attention for
Fine-grained Skeleton Action Recognition", IROS 2025, arXiv 2503.14960)."""

from __future__ import annotations

from .configuration_utils import SkeletonConfig
from .layers import STGCN_PARTITIONS
from .registry import InputSpec
from .rgb import MMNET_ROI_JOINTS, roi_joint_indices

STREAM_KINDS = ("body", "hand")
# How BHaRNet-M's RGB guidance turns joint responses into ROI row weights (BHaRNetConfig.rgb_guidance_norm), and the
# earlier names of the first two.
GUIDANCE_NORMS = ("parts-clip", "parts-batch", "mmnet-batch", "mmnet-clip")
LEGACY_GUIDANCE_NORMS = {"sample": "parts-clip", "batch": "parts-batch"}
# transformers' ResNetConfig of ResNet-18 (microsoft/resnet-18): BHaRNet-M's RGB backbone (Fig. 1 "MMNet* ... with
# ResNet18").
RESNET18 = {"layer_type": "basic", "depths": [2, 2, 2, 2], "hidden_sizes": [64, 128, 256, 512], "embedding_size": 64}


class BHaRNetConfig(SkeletonConfig):
    r"""Configuration of [`BHaRNetModel`] and [`BHaRNetForSkeletonClassification`].

    A body expert and a hand expert (two GCN backbones of the same class, section III-A) whose logits are trained
    jointly with individual and complementary losses (Eqs. 2-4), optionally exchanging features by cross-attention
    (Eq. 5) -- over all tokens, or through the Pooling Attention Module (Eqs. 6-8) -- and optionally split into
    expertized and interactive branches (Eqs. 9-11). The defaults are BHaRNet-P (Table I): DeGCN backbones, fast
    (Performer) attention with PAM, complementary loss. The rows of Tables III, IV and VI are presets:

    | preset | Table | streams | interaction | kernel | pooling | expertized | lambda_cpl |
    |---|---|---|---|---|---|---|---|
    | `degcn-2stream` | III "DeGCN (baseline, 2 stream)" | body, body | none | - | - | no | 0 (fusion sum) |
    | `body-expert` / `hand-expert` | III, IV "Body" / "Hand" | body / hand | none | - | - | no | - |
    | `joint-cpl` | III "Score fusion w/ L_c", IV "Joint training" | body, hand | none | - | - | no | 1 |
    | `cross-attention` | III "Cross-Attention (standard)" | body, hand | cross_attention | softmax | none | no | 1 |
    | `fast-attention` | III "Fast Attention" | body, hand | cross_attention | performer | none | no | 1 |
    | `bharnet-p` (default) | III "F.A. + PAM", I "-P" | body, hand | cross_attention | performer | pam | no | 1 |
    | `bharnet-e` | III "F.A. + Expertized", I "BHaRNet-E" | body, hand | cross_attention | performer | none | yes | 1 |
    | `bharnet-m` | II "BHaRNet-M", V "Body-expertized branch" | `bharnet-e` + RGB stream guided by its body stream |
    | `bharnet-m-body-gcn` | V "Body GCN" | `bharnet-e` + RGB stream guided by a separate, frozen body GCN |

    The attention rows without expertized branches (`cross-attention`, `fast-attention`, `bharnet-p`) add each
    stream's own features to its cross-attention output and average their two branches; `bharnet-e` and the
    `bharnet-m` presets have no such residual and sum their four branches (Eq. 11): `cross_attention_residual` and
    `fusion` below.

    "Score fusion" without L_c (Tables III, VI "Ensemble (simple GCN)", IV "Simple Ensemble") is not a jointly
    trained model: it is the body and hand experts trained separately and averaged afterwards
    (`skeleton_models.training.ensemble`). BHaRNet-E's expert-only path (Table I, section III-E) is
    ``model(..., expert_only=True)`` (or ``expert_only=True`` in the configuration). Every preset takes
    ``backbone="stgcn"`` for Table IV's ST-GCN column.

    BHaRNet-M (section III-E "RGB Integration", Fig. 4 right, Tables II and V) adds an RGB stream in MMNet's manner:
    a ResNet-18 reads an ROI mosaic (crops around the `rgb_roi_joints` in `rgb_frames` frames, rows = parts,
    `skeleton_models.rgb`) whose rows are scaled by how strongly the body features respond at each part's joint
    (MMNet: the L2 norm of the GCN features per joint, of the more active person, mean of the top-15 frames; see
    `rgb_guidance_norm` for where the scaling happens). The RGB stream has its own classifier and loss ("its own
    training path"); its logits are added to the skeleton prediction (the "Joint, Bone, RGB ... in ensemble" of
    section IV-A, within one model).

    Args:
        layout, in_channels, num_persons: the body input ``skeletons`` (N, C, T, V, M).
        hand_layout, hand_in_channels, hand_instances: the hand input ``hands`` (N, C, T, V, 2): the two hands
            {left, right} of the most active person as instances (section III-F; `hands2x21` pads MediaPipe's 21
            keypoints with 4 isolated dummies so that both experts have the body's cost, Table III).
        streams: the expert streams, each ``"body"`` or ``"hand"``; ``["body", "body"]`` is DeGCN's own two-stream
            model (two backbones on the body input).
        backbone: ``"degcn"`` (the public DeGCN code: CTR-GC over channel groups + multi-scale temporal modelling
            with deformable temporal convolutions; its deformable *spatial* block is not public, so accuracy parity
            with the paper's Table I is not guaranteed) or ``"stgcn"`` (ST-GCN, Table IV).
        hidden_sizes, strides: channels and temporal stride of each backbone block (DeGCN / ST-GCN: 64 x4, 128 x3,
            256 x3; stride 2 at the 5th and 8th block).
        num_scales: DeGCN's channel groups of its CTR-GC (``num_scale=4``) and grouped residuals.
        num_offsets: DeGCN's temporal offsets eta of each deformable temporal convolution (4).
        temporal_kernel_size, temporal_dilations: the dilated branches of the multi-scale temporal block (5; 1, 2).
        negative_slope: DeGCN's leaky-ReLU slope (0.1); ST-GCN uses ReLU.
        stgcn_kernel_size, stgcn_dropout, stgcn_partition: the ST-GCN backbone's temporal kernel (9), dropout in
            every block but the first (0.5) and graph (``"official"``: the official code's spatial partition, see
            `skeleton_models.layers.stgcn_spatial_graph`; ``"geometric"``). The paper says nothing of its ST-GCN
            backbone beyond its name (section IV-D 3, Table IV), so it is ST-GCN's NTU configuration
            (yysijie/st-gcn@221c0e1 net/st_gcn.py, config/st_gcn/ntu-xsub/train.yaml, as our `STGCNConfig`): one
            input BatchNorm over each instance's (V C) features shared by the instances (the persons; the two
            hands), where the DeGCN backbone normalises the (M V C) features of each frame.
        interaction: ``"none"`` (score-level fusion only) or ``"cross_attention"`` (Eq. 5).
        attention_kernel: ``"softmax"`` (standard cross-attention) or ``"performer"`` (FAVOR+ fast attention [20]).
        pooling: ``"none"`` (attention over all T' x V x I tokens) or ``"pam"`` (Pooling Attention Module, Eqs. 6-8).
        cross_attention_residual: add each stream's own pooled features to its cross-attention output (once around
            the module: F~_B = GAP(F_B) + CrossAttn(F_B -> F_H) pooled, or + the sum of PAM's three axes).
            None (default): on without expertized branches (BHaRNet-P and Table III's attention rows), off with
            them (BHaRNet-E, -M). The paper names "no residual" only for the expertized model (Introduction:
            separating the interactive from the expertized branches lets them exchange information without
            residual connections; section III-D: the expertized branches keep the raw GCN features); it says
            nothing of a residual in BHaRNet-P. Assumed (on for P): P's two branches are the only path of each
            stream's own features; without the residual the body branch sees the body only through the attention
            weights (attending to hand tokens that are all equal, its output does not depend on the body at all),
            and stage 2 could not start from the experts that `load_experts` copies in (section IV-A: the joint
            model is initialised from the pre-trained experts and fine-tuned). Saved configurations without this
            field were written before it existed, when no model had the residual: they load as False (`from_dict`).
        expertized: add expertized branches (Eqs. 9-11): the logits of four branches (body/hand expert, body/hand
            interactive) are fused; the individual losses apply to the interactive branches only.
        expert_only: run only the expertized branches (the light inference of section III-E; needs `expertized`).
        attention_heads: heads of every cross-attention.
        performer_features: random features of the Performer kernel (None: ``int(d ln d)`` per head width d).
        fusion: how the branch logits are fused into the prediction y (and L_cpl = CE(y), Eq. 3): ``"sum"`` (Eq. 11,
            y = sum_i y_i over the four branches; Fig. 4 draws a sum) or ``"mean"`` (section III-B says the two
            streams' logits are "integrated by averaging"). None (default): ``"sum"`` with expertized branches
            (BHaRNet-E, -M: Eq. 11 as written), ``"mean"`` without (section III-B). Configurations saved before
            the None default carry their value and load unchanged.
        lambda_body, lambda_hand, lambda_cpl: loss weights of Eq. 4 (the paper gives none: 1).
        label_smoothing: of every cross-entropy term (DeGCN's training code: 0.1).
        dropout: dropout before the classifiers (DeGCN: 0; ST-GCN has none).
        rgb_stream: add BHaRNet-M's RGB stream (input ``pixel_values`` (N, 3, P x patch, F x patch)).
        rgb_guidance_source: Table V: ``"body_stream"`` (this model's body stream -- the features of the
            body-expertized branch in BHaRNet-E) or ``"body_gcn"`` (a separate single-stream body GCN, as MMNet's
            pretrained ST-GCN; load one with ``load_experts(guide=...)``). Either way the guidance is detached (the
            RGB loss does not train the skeleton side), so the separate GCN is fixed: frozen, batch-norm statistics
            included. ``"none"``: every row weighs 1 (no guidance; a control the paper does not report).
        rgb_backbone: keyword arguments of transformers' `ResNetConfig` (default ResNet-18; initialise it from an
            ImageNet checkpoint with ``load_rgb_backbone("microsoft/resnet-18")``).
        rgb_roi_joints: the body-layout joints whose regions form the mosaic's rows (MMNet's head, right hand,
            left hand, right ankle, left ankle).
        rgb_frames, rgb_patch_size: the mosaic's columns (frames) and tile side (MMNet: 5 and 45 px -> 225 x 225).
        rgb_guidance_topk: frames averaged per joint, the most responsive ones (MMNet: 15, net/mmn.py
            ``temporal_positions``, of its 75 feature frames: 300 input frames over ST-GCN's two temporal strides).
            At this library's window of 64 frames the body features have 16 frames, so 15 is nearly their mean
            (Not changed here: the default is re-measured elsewhere).
        rgb_guidance_norm: how the joint responses become row weights (`GUIDANCE_NORMS`):

            - ``"parts-clip"`` (default): each clip's P part weights (the top-k means) min-max scaled to [0, 2], so
              every clip's weakest row weighs exactly 0 and its strongest exactly 2; a clip's prediction does not
              depend on the other clips of its batch. Assumed (not MMNet's order, see below).
            - ``"parts-batch"``: the same min-max over all the part weights of the batch.
            - ``"mmnet-batch"``: MMNet's order (bruceyo/MMNet @ 2055e5e, net/mmn.py ``Model.forward``, lines
              45-77): the whole response map -- every joint, frame and person of every clip of the batch --
              min-max scaled to 0-255 *before* the top-k frame mean, the mean truncated to an integer (MMNet writes
              it into an integer array, line 55), then / 127: weights in [0, 255 / 127], no row forced to 0 or 2.
              A clip's weights depend on its batch, as in MMNet. Checked against MMNet's own code
              (tests/fixtures/reference/mmnet-guidance.safetensors).
            - ``"mmnet-clip"``: MMNet's order with the min-max over each clip's own response map (the same as
              ``"mmnet-batch"`` for a batch of one clip).

            Saved configurations' ``"sample"`` and ``"batch"`` (the earlier names) load as ``"parts-clip"`` and
            ``"parts-batch"``.
        lambda_rgb: weight of the RGB stream's cross-entropy (Assumed: 1).
        rgb_fusion_weight: weight of the RGB logits added to the skeleton prediction (Assumed: 1, an equal-weight
            ensemble).
        num_labels: number of classes (NTU-60: 60).
    """

    model_type = "bharnet"
    presets = {
        "bharnet-p": {},
        "bharnet-e": {"pooling": "none", "expertized": True},
        "bharnet-e-expert-only": {"pooling": "none", "expertized": True, "expert_only": True},
        "fast-attention": {"pooling": "none"},
        "cross-attention": {"pooling": "none", "attention_kernel": "softmax"},
        "joint-cpl": {"interaction": "none"},
        "body-expert": {"streams": ["body"], "interaction": "none"},
        "hand-expert": {"streams": ["hand"], "interaction": "none"},
        "degcn-2stream": {"streams": ["body", "body"], "interaction": "none", "fusion": "sum", "lambda_cpl": 0.0},
        "bharnet-m": {"pooling": "none", "expertized": True, "rgb_stream": True},
        "bharnet-m-body-gcn": {
            "pooling": "none",
            "expertized": True,
            "rgb_stream": True,
            "rgb_guidance_source": "body_gcn",
        },
        # The narrow variant the quickstart trains on 2 CPU cores: body and hand experts on 6-block backbones,
        # trained jointly with the complementary loss (the `joint-cpl` row). Trained in one stage on the synthetic
        # benchmark it measured 97.7 % top-1 where the same widths with BHaRNet-E's branches gave 88.3 % (README;
        # measured when BHaRNet-E still averaged its branch logits).
        "bharnet-small": {
            "hidden_sizes": [16, 16, 32, 32, 64, 64],
            "strides": [1, 1, 2, 1, 2, 1],
            "num_scales": 2,
            "attention_heads": 4,
            "interaction": "none",
        },
    }
    keys_to_ignore_at_inference = [  # the Trainer gathers only the fused logits
        "branch_logits",
        "pooler_output",
        "hidden_states",
        "loss_body",
        "loss_hand",
        "loss_complementary",
        "skeleton_logits",
        "rgb_logits",
        "rgb_guidance",
        "loss_rgb",
    ]

    def __init__(
        self,
        layout: str = "ntu25",
        in_channels: int = 3,
        num_persons: int = 2,
        hand_layout: str = "hands2x21",
        hand_in_channels: int = 3,  # x, y and MediaPipe's relative z (section III-F: "2.5D")
        hand_instances: int = 2,  # left, right hand of the most active person (section III-F)
        streams: list[str] | tuple[str, ...] = ("body", "hand"),
        backbone: str = "degcn",  # section IV-A: "We adopt the open-source DeGCN framework"
        hidden_sizes: list[int] | tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256),  # DeGCN's
        strides: list[int] | tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1),
        num_scales: int = 4,  # DeGCN's num_scale
        num_offsets: int = 4,  # DeGCN's eta
        temporal_kernel_size: int = 5,
        temporal_dilations: list[int] | tuple[int, ...] = (1, 2),
        negative_slope: float = 0.1,  # DeGCN's LEAKY_ALPHA
        stgcn_kernel_size: int = 9,  # net/st_gcn.py
        stgcn_dropout: float = 0.5,  # config/st_gcn/ntu-xsub/train.yaml
        stgcn_partition: str = "official",  # net/utils/graph.py Graph(strategy="spatial")
        interaction: str = "cross_attention",  # section III-C
        attention_kernel: str = "performer",  # Table III: BHaRNet-P is "F.A. + PAM"
        pooling: str = "pam",
        cross_attention_residual: bool | None = None,  # Assumed for P (see the docstring); Introduction for E
        expertized: bool = False,
        expert_only: bool = False,
        attention_heads: int = 8,  # Assumed: the paper gives no attention sizes
        performer_features: int | None = None,  # Assumed: performer-pytorch's default int(d ln d)
        fusion: str | None = None,  # Eq. 11 (sum) with expertized branches, else section III-B (mean)
        lambda_body: float = 1.0,  # Eq. 4; the paper gives no values
        lambda_hand: float = 1.0,
        lambda_cpl: float = 1.0,
        label_smoothing: float = 0.1,  # DeGCN's training code
        dropout: float = 0.0,
        rgb_stream: bool = False,  # BHaRNet-M (Table II)
        rgb_guidance_source: str = "body_stream",  # Table V: the body-expertized branch guides best
        rgb_backbone: dict | None = None,  # ResNet-18 (Fig. 1)
        rgb_roi_joints: list[str] | tuple[str, ...] = MMNET_ROI_JOINTS,  # MMNet net/mmn.py
        rgb_frames: int = 5,  # MMNet
        rgb_patch_size: int = 45,  # MMNet
        rgb_guidance_topk: int = 15,  # MMNet
        rgb_guidance_norm: str = "parts-clip",  # Assumed (see the docstring); MMNet's: "mmnet-batch"
        lambda_rgb: float = 1.0,
        rgb_fusion_weight: float = 1.0,
        **kwargs,
    ):
        if "num_labels" not in kwargs and "id2label" not in kwargs:
            kwargs["num_labels"] = 60  # NTU RGB+D 60
        self.layout = layout
        self.in_channels = in_channels
        self.num_persons = num_persons
        self.hand_layout = hand_layout
        self.hand_in_channels = hand_in_channels
        self.hand_instances = hand_instances
        self.streams = list(streams)
        self.backbone = backbone
        self.hidden_sizes = list(hidden_sizes)
        self.strides = list(strides)
        self.num_scales = num_scales
        self.num_offsets = num_offsets
        self.temporal_kernel_size = temporal_kernel_size
        self.temporal_dilations = list(temporal_dilations)
        self.negative_slope = negative_slope
        self.stgcn_kernel_size = stgcn_kernel_size
        self.stgcn_dropout = stgcn_dropout
        self.stgcn_partition = stgcn_partition
        self.interaction = interaction
        self.attention_kernel = attention_kernel
        self.pooling = pooling
        self.expertized = expertized
        if cross_attention_residual is None:
            cross_attention_residual = interaction != "none" and not expertized
        self.cross_attention_residual = bool(cross_attention_residual)
        self.expert_only = expert_only
        self.attention_heads = attention_heads
        self.performer_features = performer_features
        self.fusion = fusion if fusion is not None else ("sum" if expertized else "mean")
        self.lambda_body = lambda_body
        self.lambda_hand = lambda_hand
        self.lambda_cpl = lambda_cpl
        self.label_smoothing = label_smoothing
        self.dropout = dropout
        self.rgb_stream = rgb_stream
        self.rgb_guidance_source = rgb_guidance_source
        self.rgb_backbone = dict(RESNET18 if rgb_backbone is None else rgb_backbone)
        self.rgb_roi_joints = list(rgb_roi_joints)
        self.rgb_frames = rgb_frames
        self.rgb_patch_size = rgb_patch_size
        self.rgb_guidance_topk = rgb_guidance_topk
        self.rgb_guidance_norm = LEGACY_GUIDANCE_NORMS.get(rgb_guidance_norm, rgb_guidance_norm)
        self.lambda_rgb = lambda_rgb
        self.rgb_fusion_weight = rgb_fusion_weight
        super().__init__(**kwargs)
        self._validate()

    @classmethod
    def from_dict(cls, config_dict: dict, **kwargs):
        """`PretrainedConfig.from_dict` (``from_pretrained``, ``AutoConfig``), reading a configuration saved before
        ``cross_attention_residual`` existed as it ran then: without the residual."""
        if "cross_attention_residual" not in config_dict:
            config_dict = {**config_dict, "cross_attention_residual": False}
        return super().from_dict(config_dict, **kwargs)

    def _validate(self) -> None:
        choices = {
            "backbone": ("degcn", "stgcn"),
            "stgcn_partition": STGCN_PARTITIONS,
            "interaction": ("none", "cross_attention"),
            "attention_kernel": ("softmax", "performer"),
            "pooling": ("none", "pam"),
            "fusion": ("mean", "sum"),
            "rgb_guidance_source": ("body_stream", "body_gcn", "none"),
            "rgb_guidance_norm": GUIDANCE_NORMS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not self.streams or any(s not in STREAM_KINDS for s in self.streams):
            raise ValueError(f"streams must be a non-empty list of {STREAM_KINDS}, got {self.streams}")
        if self.interaction != "none" and sorted(self.streams) != ["body", "hand"]:
            raise ValueError(f"cross-attention needs streams ['body', 'hand'], got {self.streams}")
        if self.expertized and self.interaction == "none":
            raise ValueError("expertized branches need interaction='cross_attention' (their interactive half)")
        if self.expert_only and not self.expertized:
            raise ValueError("expert_only needs expertized=True")
        if self.rgb_stream:
            if "body" not in self.streams:
                raise ValueError(f"the RGB stream is guided by the body: streams must have 'body', got {self.streams}")
            roi_joint_indices(self.layout, self.rgb_roi_joints)
            if min(self.rgb_frames, self.rgb_patch_size, self.rgb_guidance_topk) < 1:
                raise ValueError("rgb_frames, rgb_patch_size and rgb_guidance_topk must be >= 1")
        if self.backbone == "degcn":
            branches = len(self.temporal_dilations) + 2
            of = f"num_scales x temporal branches ({self.num_scales} x {branches})"
            self.check_blocks(self.hidden_sizes, self.strides, self.num_scales * branches, of)
        else:
            self.check_blocks(self.hidden_sizes, self.strides)
        if self.interaction != "none" and self.hidden_sizes[-1] % self.attention_heads:
            raise ValueError(
                f"the last hidden size ({self.hidden_sizes[-1]}) must divide by attention_heads "
                f"({self.attention_heads})"
            )

    @property
    def branch_names(self) -> list[str]:
        """The classifier branches, in the order of ``branch_logits``."""
        if self.expertized:
            return ["body_expert", "hand_expert", "body_interactive", "hand_interactive"]
        names = []
        for stream in self.streams:
            names.append(stream if stream not in names else f"{stream}_{names.count(stream) + 1}")
        return names

    @property
    def input_specs(self) -> tuple[InputSpec, ...]:
        specs = []
        if "body" in self.streams:
            specs.append(InputSpec("skeletons", "skeleton", self.layout, self.in_channels, self.num_persons))
        if "hand" in self.streams:
            specs.append(InputSpec("hands", "skeleton", self.hand_layout, self.hand_in_channels, self.hand_instances))
        if self.rgb_stream:
            specs.append(InputSpec("pixel_values", "image", channels=3, size=self.rgb_image_size))
        return tuple(specs)

    @property
    def rgb_image_size(self) -> tuple[int, int]:
        """(H, W) of the RGB ROI mosaic: a row of tiles per ROI joint, a column per frame."""
        return (len(self.rgb_roi_joints) * self.rgb_patch_size, self.rgb_frames * self.rgb_patch_size)
