"""GFP configuration (Sun, Zhang, Dong, Cheng, Chang, Wang, "Towards efficient general feature prediction in masked
skeleton modeling", ICCV 2025;
../shared/papers/gfp.txt) and its baselines MAMP (Mao et al., ICCV 2023; the official code maoyunyao/MAMP, read in
../shared/research/methods.md section 2.1) and SkeletonMAE (Wu et al., 2023)."""

from __future__ import annotations

from ...configuration_utils import SkeletonConfig
from ...registry import InputSpec

TARGET_TYPES = ("hierarchical", "motion", "joint")
TGN_INPUTS = ("motion", "joint", "masked_joint")
CLASSIFIER_HEADS = ("linear_probe", "finetune")


class GFPConfig(SkeletonConfig):
    r"""Configuration of [`GFPModel`] (the encoder), [`GFPForPreTraining`] and [`GFPForSkeletonClassification`].

    The encoder is MAMP's ViT: skeletal-temporal patches of P_T frames x 1 joint (120 frames -> 30 x 25 = 750
    tokens), separate learned temporal and joint embeddings added, pre-norm blocks with attention through SDPA, a
    final LayerNorm, no CLS token. Persons are separate sequences, as MAMP flattens them: (N, C, T, V, M) ->
    (N M) sequences; the encoder processes an absent person (all zeros) too, as MAMP does, and pre-training leaves
    them out of the loss with ``ignore_padding_persons``.

    Pre-training masks tokens with MAMP's motion-aware masking, encodes the visible ones, and decodes the full grid
    (visible features + a mask token) into the targets of ``target_type``:

    - ``"hierarchical"`` (GFP, section 3.2): cascaded one-layer transformer decoders over temporally average-pooled
      grids (relative kernels ``pooling_kernels``, 5, 2, 3: 150, 75 and 25 tokens), then a global level (the last
      level's joint tokens aggregated, a 2-layer MLP of hidden ``global_hidden_size``): 251 predictions, each
      projected by a ``projector_layers``-layer MLP to ``target_size``. The targets come from the jointly trained
      target generation network (TGN, section 3.3): one MLP per level over the ``tgn_input`` signal of each target's
      receptive field, concatenated (60-, 120-, 360-d per joint token; the global level flattens the whole
      sequence). Loss (Eqs. 3-7): ``lambda_pred`` L_pred over all targets + sum over levels of ``alpha_cov`` L_cov +
      ``beta_var`` L_var on the TGN outputs.
    - ``"motion"`` (MAMP) / ``"joint"`` (SkeletonMAE): ``decoder_num_layers`` transformer blocks over the full grid,
      a linear map to each patch's P_T x C values, the MSE to the patch's motion (x[t+1] - x[t], last frame 0) or
      coordinates, normalised per patch (``normalize_target``), averaged over masked patches.

    Args:
        layout, in_channels, num_persons: the skeleton input.
        num_frames: T, the clip length the processor resamples to (MAMP: 120).
        temporal_patch: P_T, frames per patch (MAMP / GFP section 4.2: l = 4).
        hidden_size, num_hidden_layers, num_attention_heads, mlp_ratio: the encoder (section 4.2: 256, 8 layers,
            8 heads, FFN 1024).
        drop_path_rate: stochastic depth of the encoder, linear over the blocks (pre-training: 0; MAMP's
            fine-tuning: 0.3).
        layer_norm_eps: the LayerNorms' eps (MAMP: torch's default 1e-5).
        mask_ratio, mask_tau: MAMP's motion-aware masking (0.9; tau 0.80 for NTU-60 / PKU-MMD, 0.75 for NTU-120;
            tau <= 0: random masking).
        ignore_padding_persons: pre-training drops the padding person sequences (all zero: the processor's absent
            persons) before masking, so that they enter no loss and no batch statistic (the TGN's BatchNorm, L_var,
            L_cov). Assumed (the papers are silent; MAMP's code trains on them): on for GFP, because on the
            synthetic benchmark 41 % of the person sequences are padding and predicting their zero targets is most
            of MAMP's loss drop there; off in the ``mamp`` and ``skeletonmae`` presets, which reproduce those
            methods' code.
        eval_mask_seed: the masks in evaluation mode come from this seed (a fixed validation mask, so that a
            validation loss is comparable between evaluations); training masks are random.
        target_type: ``"hierarchical"`` (GFP), ``"motion"`` (MAMP) or ``"joint"`` (SkeletonMAE).
        decoder_hidden_size: the decoder's width (GFP: "the decoder retains the same dimensions": 256).
        decoder_num_layers: the MAMP / SkeletonMAE decoder's depth (MAMP's NTU-60 config: 3; its NTU-120 / PKU
            configs and Table 1's 17.70 GFLOPs: 5).
        normalize_target: MAMP's ``norm_skes_loss``: each target patch standardised by its own mean and (unbiased)
            variance.
        pooling_kernels: GFP's temporal average-pooling kernel of each local level, relative to the previous level
            (section 4.2: spans 5, 10, 30 temporal tokens -> 5, 2, 3).
        num_local_levels: how many of those levels are targets (Fig. 3: 1, 2 or 3; the pooling still cascades).
        use_global_target: the global level (Fig. 3's "g").
        level_decoder_layers: transformer layers of each local level's decoder (section 4.2: 1).
        global_hidden_size: hidden width of the global level's 2-layer MLP (section 4.2: 2048).
        global_aggregation: how the last local level's V joint tokens become one: ``"mean"`` (Assumed; the paper:
            "feature aggregation") or ``"flatten"`` (concatenated, V x D inputs to the MLP).
        decoder_position_embeddings: learned temporal and joint embeddings added to the decoder's input grid (as
            MAMP's decoder; Assumed for GFP).
        target_size: C_t, the TGN's output width, and C_p after the projectors (Assumed 256: with
            ``projector_hidden_size`` 512 the decoder costs the paper's 1.57 GFLOPs).
        projector_layers, projector_hidden_size: the MLP projectors to the target width (section 4.2 / Table 6: 3
            layers; Assumed hidden 512).
        use_tgn: False: Fig. 3's "*" variant, no TGN: each level predicts its raw receptive-field input (the
            ``tgn_input`` signal, flattened) and there is no variance / covariance term.
        tgn_input: the TGN's input (Table 4): ``"motion"`` (X_e[1:] - X_e[:-1], the paper's), ``"joint"`` (X_e) or
            ``"masked_joint"`` (X_e with the masked patches zeroed).
        tgn_motion: how motion is differenced: ``"patches"`` (between consecutive temporal patches, as section 3.3
            writes X_e[1:] - X_e[:-1]; the last patch is zero-padded) or ``"frames"`` (MAMP's frame motion, then
            patchified).
        tgn_input_norm: standardise each TGN input vector (its receptive field's signal) by its own mean and
            variance, as MAMP standardises each motion target patch (an option; the paper is silent: off).
        tgn_norm: a normalisation after each hidden layer of the TGN MLPs: ``"batch"`` (Assumed: VICReg's expander,
            whose variance / covariance terms GFP adopts, has BatchNorm there; the paper says "MLP" only), ``"layer"``
            or ``"none"``. Without it the TGN's outputs vary ~100 times less than L_var's target at initialisation
            (std ~0.01 for motion inputs of std ~0.05): L_var starts at its maximum and stays there (README,
            synthetic benchmark); with BatchNorm it starts near 1.5 of 4 and the probe and retrieval improve.
        prediction_reduction: how Eq. 3's squared error reduces over a target's channels: ``"sum"`` (the Frobenius
            norm as written) or ``"mean"`` (VICReg's invariance term is a mean; an option). On the synthetic
            benchmark (README, 10 epochs of ``gfp-small``) the mean with a BatchNorm TGN retrieves best; with the sum
            L_pred outweighs L_var by the number of channels and pulls the TGN's outputs together over training.
        tgn_layers, tgn_hidden_size, tgn_global_hidden_size, tgn_width_multiplier: the TGN MLPs (section 4.2: 3
            layers, hidden 512 local / 2048 global; Table 5's "shallow": 2 layers; "wider": 4 layers, multiplier 2).
        variance_over: the statistics of L_var / L_cov of a local level with several target tokens: ``"flattened"``
            (every token of the batch a sample, Assumed) or ``"per_position"`` (each token position's batch
            statistics, averaged over positions).
        variance_eps: eps inside the square root of L_var (VICReg: 1e-4).
        gamma: L_var's target standard deviation (section 3.3: 1).
        lambda_pred, alpha_cov, beta_var: Eq. 7 / Eq. 6 weights (section 4.2: 5, 5, 1).
        detach_targets: stop the gradient into the TGN through L_pred (the paper trains both jointly: False).
        classifier_head: ``"linear_probe"`` (MAMP's: mean over persons, frames and joints, BatchNorm1d without
            affine, a linear layer) or ``"finetune"`` (MAMP's fine-tuning head: dropout, mean over frames, the joints
            concatenated, mean over persons, Linear-BN-ReLU-Linear of hidden ``classifier_hidden_size``).
        classifier_dropout: the fine-tuning head's dropout (MAMP: 0.3).
        classifier_hidden_size: the fine-tuning head's hidden width (MAMP: ``ActionHeadFinetune``'s ``hidden_dim``
            2048, model/transformer.py @ 09e6252).
        freeze_encoder: train only the head (the linear-evaluation protocol).
        num_labels: number of classes (NTU-60: 60).
    """

    model_type = "gfp"
    presets = {
        "gfp": {},
        # MAMP's NTU-60 config (layer8+3), its padding persons in the loss as its code has them
        "mamp": {"target_type": "motion", "decoder_num_layers": 3, "ignore_padding_persons": False},
        "skeletonmae": {
            "target_type": "joint",
            "mask_tau": 0.0,
            "decoder_num_layers": 3,
            "ignore_padding_persons": False,
        },
        # CPU-sized: 64 frames (16 x 25 tokens), a 4-layer encoder of width 128; levels span 4, 8 and 16 tokens.
        "gfp-small": {
            "num_frames": 64,
            "hidden_size": 128,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "decoder_hidden_size": 128,
            "pooling_kernels": [4, 2, 2],
            "target_size": 128,
            "projector_hidden_size": 256,
            "global_hidden_size": 512,
            "tgn_hidden_size": 256,
            "tgn_global_hidden_size": 512,
        },
    }
    keys_to_ignore_at_inference = [
        "loss_pred",
        "loss_var",
        "loss_cov",
        "mask",
        "prediction",  # MAMP's predicted patches of every token: not gathered in evaluation
        "pooler_output",
        "hidden_states",
    ]

    def __init__(
        self,
        layout: str = "ntu25",
        in_channels: int = 3,
        num_persons: int = 2,
        num_frames: int = 120,  # MAMP: clips resized to 120 frames
        temporal_patch: int = 4,  # section 4.2: l = 4
        hidden_size: int = 256,  # section 4.2
        num_hidden_layers: int = 8,
        num_attention_heads: int = 8,
        mlp_ratio: float = 4.0,  # FFN 1024
        drop_path_rate: float = 0.0,
        layer_norm_eps: float = 1e-5,
        mask_ratio: float = 0.9,  # MAMP
        mask_tau: float = 0.8,  # MAMP, NTU-60
        eval_mask_seed: int = 0,
        ignore_padding_persons: bool = True,  # Assumed (see above)
        target_type: str = "hierarchical",
        decoder_hidden_size: int = 256,
        decoder_num_layers: int = 3,
        normalize_target: bool = True,  # MAMP's norm_skes_loss
        pooling_kernels: list[int] | tuple[int, ...] = (5, 2, 3),  # section 4.2: 5, 10, 30 tokens
        num_local_levels: int | None = None,
        use_global_target: bool = True,
        level_decoder_layers: int = 1,  # section 4.2
        global_hidden_size: int = 2048,  # section 4.2
        global_aggregation: str = "mean",
        decoder_position_embeddings: bool = True,
        target_size: int = 256,
        projector_layers: int = 3,  # section 4.2, Table 6
        projector_hidden_size: int = 512,
        use_tgn: bool = True,
        tgn_input: str = "motion",  # Table 4
        tgn_motion: str = "patches",
        tgn_input_norm: bool = False,
        tgn_norm: str = "batch",  # Assumed (VICReg's expander); "none" collapses at init (README)
        prediction_reduction: str = "sum",  # Eq. 3 as written
        tgn_layers: int = 3,  # section 4.2, Table 5
        tgn_hidden_size: int = 512,
        tgn_global_hidden_size: int = 2048,
        tgn_width_multiplier: float = 1.0,
        variance_over: str = "flattened",
        variance_eps: float = 1e-4,  # VICReg
        gamma: float = 1.0,  # section 3.3
        lambda_pred: float = 5.0,  # section 4.2
        alpha_cov: float = 5.0,
        beta_var: float = 1.0,
        detach_targets: bool = False,
        classifier_head: str = "linear_probe",
        classifier_dropout: float = 0.3,  # MAMP's fine-tuning head
        classifier_hidden_size: int = 2048,  # MAMP's fine-tuning head
        freeze_encoder: bool = False,
        **kwargs,
    ):
        if "num_labels" not in kwargs and "id2label" not in kwargs:
            kwargs["num_labels"] = 60  # NTU RGB+D 60
        self.layout = layout
        self.in_channels = in_channels
        self.num_persons = num_persons
        self.num_frames = num_frames
        self.temporal_patch = temporal_patch
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.mlp_ratio = mlp_ratio
        self.drop_path_rate = drop_path_rate
        self.layer_norm_eps = layer_norm_eps
        self.mask_ratio = mask_ratio
        self.mask_tau = mask_tau
        self.eval_mask_seed = eval_mask_seed
        self.ignore_padding_persons = ignore_padding_persons
        self.target_type = target_type
        self.decoder_hidden_size = decoder_hidden_size
        self.decoder_num_layers = decoder_num_layers
        self.normalize_target = normalize_target
        self.pooling_kernels = list(pooling_kernels)
        self.num_local_levels = len(self.pooling_kernels) if num_local_levels is None else num_local_levels
        self.use_global_target = use_global_target
        self.level_decoder_layers = level_decoder_layers
        self.global_hidden_size = global_hidden_size
        self.global_aggregation = global_aggregation
        self.decoder_position_embeddings = decoder_position_embeddings
        self.target_size = target_size
        self.projector_layers = projector_layers
        self.projector_hidden_size = projector_hidden_size
        self.use_tgn = use_tgn
        self.tgn_input = tgn_input
        self.tgn_motion = tgn_motion
        self.tgn_input_norm = tgn_input_norm
        self.tgn_norm = tgn_norm
        self.prediction_reduction = prediction_reduction
        self.tgn_layers = tgn_layers
        self.tgn_hidden_size = tgn_hidden_size
        self.tgn_global_hidden_size = tgn_global_hidden_size
        self.tgn_width_multiplier = tgn_width_multiplier
        self.variance_over = variance_over
        self.variance_eps = variance_eps
        self.gamma = gamma
        self.lambda_pred = lambda_pred
        self.alpha_cov = alpha_cov
        self.beta_var = beta_var
        self.detach_targets = detach_targets
        self.classifier_head = classifier_head
        self.classifier_dropout = classifier_dropout
        self.classifier_hidden_size = classifier_hidden_size
        self.freeze_encoder = freeze_encoder
        super().__init__(**kwargs)
        choices = {
            "target_type": TARGET_TYPES,
            "tgn_input": TGN_INPUTS,
            "tgn_motion": ("patches", "frames"),
            "global_aggregation": ("mean", "flatten"),
            "variance_over": ("flattened", "per_position"),
            "classifier_head": CLASSIFIER_HEADS,
            "prediction_reduction": ("sum", "mean"),
            "tgn_norm": ("none", "batch", "layer"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if num_frames % temporal_patch:
            raise ValueError(f"num_frames ({num_frames}) must be a multiple of temporal_patch ({temporal_patch})")
        spans = self.level_spans
        if spans[-1] != self.num_temporal_tokens:
            raise ValueError(
                f"pooling_kernels {self.pooling_kernels} must pool the {self.num_temporal_tokens} temporal tokens "
                f"down to one (their product must be {self.num_temporal_tokens}, got {spans[-1]})"
            )
        if not 0 <= self.num_local_levels <= len(self.pooling_kernels):
            raise ValueError(f"num_local_levels must be in [0, {len(self.pooling_kernels)}]")
        if target_type == "hierarchical" and not (self.num_local_levels or use_global_target):
            raise ValueError("the hierarchical target needs at least one level (num_local_levels or the global one)")
        if projector_layers < 1 or tgn_layers < 1:
            raise ValueError("projector_layers and tgn_layers must be >= 1")

    @property
    def num_temporal_tokens(self) -> int:
        """T' = T / P_T."""
        return self.num_frames // self.temporal_patch

    @property
    def level_spans(self) -> list[int]:
        """Each local level's span in temporal tokens (the cumulative products of ``pooling_kernels``)."""
        spans, span = [], 1
        for kernel in self.pooling_kernels:
            span *= kernel
            spans.append(span)
        return spans

    @property
    def input_specs(self) -> tuple[InputSpec, ...]:
        """Skeletons of a fixed length (the patch grid is fixed): (N, C, ``num_frames``, V, M)."""
        return (InputSpec("skeletons", "skeleton", self.layout, self.in_channels, self.num_persons, self.num_frames),)
