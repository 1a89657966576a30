"""SLiM configuration (Do, Chen, Youk, Kim, "Skeleton Less is More: decoder-free masked modeling with global-local
contrastive learning", arXiv 2603.10648; ../shared/papers/slim.txt). No official code exists (the repository holds a
README only, ../shared/research/methods.md section 3); what the paper leaves open follows DINOv2 / iBOT and is
marked "Assumed" or "Reading"."""

from __future__ import annotations

from ...augmentation import MIRRORING_MODES, ROTATION_MODES, SCALING_MODES
from ...configuration_utils import SkeletonConfig
from ...layers import MASK_KINDS, TEACHER_CENTERINGS
from ...registry import InputSpec

OBJECTIVES = ("mfm_glcl", "mfm", "glcl", "cl", "mfm_cl")  # Table 5
KOLEO_TARGETS = ("patch", "cls")
ROPE_POSITIONS = ("index", "time")
CLASSIFIER_HEADS = ("linear_probe", "finetune")


class SLiMConfig(SkeletonConfig):
    r"""Configuration of [`SLiMModel`] (the encoder), [`SLiMForPreTraining`] and [`SLiMForSkeletonClassification`].

    **Encoder** (section 3.1, appendix A): a ViT over skeletal-temporal patches of ``temporal_patch`` frames x 1 joint
    (64 frames -> 8 x 25 = 200 tokens): a linear patch projection plus learned per-joint embeddings (Eq. 1), a class
    token and ``num_register_tokens`` register tokens in front, pre-norm blocks whose attention rotates queries and
    keys by a 1-D temporal RoPE (so 64-, 32-, 16- and 8-frame views share one position scheme), a final LayerNorm:
    W = [w_cls | W_p]. Persons are separate sequences (as GFP / MAMP: (N, C, T, V, M) -> N M sequences); downstream
    features are [w_cls | mean W_p] averaged over persons.

    **Pre-training** (section 3.2): a student and its EMA teacher, each with two DINO heads (h_CL on w_cls, h_MAE on
    W_p). The teacher sees the unmasked first global view G1; the student sees G1 with ``global_masking`` tokens
    replaced by a mask token (L_MFM, Eq. 4: iBOT's cross-entropy on the masked patches) and the other views
    {G2, 2 x 32, 2 x 16, 2 x 8 frames} with ``local_masking`` applied with probability ``local_mask_probability``
    (L_GLCL, Eq. 6: cross-entropy between the teacher's G1 class distribution and each student view's). L = L_MFM +
    ``glcl_weight`` L_GLCL + ``koleo_weight`` KoLeo. The views, masks and skeleton-aware augmentations are drawn by
    `SLiMPreTrainingCollator` from each clip (appendix B-D; with ``symmetric``, the same again with G2 as the
    anchor); the teacher follows the student through
    `SLiMTeacherCallback` (EMA momentum ``teacher_momentum`` -> 1, cosine; teacher temperature warm-up).

    Args:
        layout, in_channels, num_persons: the skeleton layout, coordinates per joint and persons per clip.
        num_frames: frames of the global views and of downstream clips (section 4.1: T = 64).
        temporal_patch: P_T (section 3.1: 8; P_J = 1).
        hidden_size, num_hidden_layers, num_attention_heads: appendix A: 256, 8, 8.
        mlp_ratio: Assumed 4 (the paper does not give the MLP width).
        num_register_tokens: appendix A: 4.
        rope_base: RoPE's frequency base (Assumed 100, not 10,000: at most 8 temporal tokens per view, so a base of
            10,000 would leave most channel pairs nearly unrotated).
        rope_positions: what a patch token's RoPE position is: ``"index"`` (Assumed: its temporal token index
            within the view, 0..T'-1, so neighbouring tokens are one step apart in every view) or ``"time"`` (its
            centre in global-view token units, (index + 0.5) x T'_global / T' - 0.5, so every view spans the same
            positions as a global view).
            The class and register tokens get position 0 (no rotation; Assumed, as DINOv3's prefix tokens).
        drop_path_rate, layer_norm_eps: stochastic depth (Assumed 0 in pre-training) and LayerNorm eps (1e-6, DINOv2).
        head_hidden_size, head_bottleneck_size, head_layers, num_prototypes: appendix A: 2048, 256, 3, K = 65,536,
            for both heads.
        student_temperature, teacher_temperature, teacher_warmup_temperature, teacher_temperature_warmup: DINOv2's
            (Assumed: 0.1; 0.04 -> 0.07 over the first 30 of 150 epochs, i.e. 20 % of training).
        teacher_momentum: the EMA momentum at the start (DINOv2's 0.994 -> 1, cosine; Assumed).
        weight_decay_end: with `SLiMTeacherCallback`, the weight decay of the decayed parameter groups moves on a
            cosine from the Trainer's ``weight_decay`` to this value over training (DINOv2: 0.04 -> 0.4); None (the
            default: the paper gives no weight decay): constant, the Trainer's.
        centering: the teacher's centering: ``"sinkhorn_knopp"`` (appendix A) or ``"softmax_center"`` (DINO's).
        sinkhorn_iterations: Assumed 3 (DINOv2).
        objective: Table 5: ``"mfm_glcl"`` (the paper's), ``"mfm"``, ``"glcl"``, ``"cl"`` (contrastive views all
            16-frame clips: "without temporal diversity") or ``"mfm_cl"``.
        glcl_weight: lambda (Eq. 7: 1).
        glcl_reduction: how Eq. 6 combines the student views: ``"mean"`` (Assumed, as DINO averages its crop
            pairs) or ``"sum"`` (as written).
        symmetric: repeat the objective with G2 as the anchor (the paper symmetrises it). Reading, as iBOT: both
            global views are then masked with ``global_masking`` (p = 1) in the student; each serves L_MFM against
            its own teacher view and L_GLCL against the other's; each anchor has its own six local views, cut from
            its interval. False: one pass anchored on G1, the student's G2 masked as a contrastive view.
        ignore_padding_persons: pre-training drops the padding person sequences (all zero in both global views: the
            processor's absent persons) before the teacher and the student see them, so that they enter no loss term
            and no batch statistic (Sinkhorn-Knopp's rows, the centre, KoLeo). Assumed (the paper is silent): on,
            because on the synthetic benchmark 41 % of the person sequences are padding, each a sample whose views
            are all identical.
        koleo_weight, koleo_target: appendix A: 0.1 on "the local features"; Reading: the patch-wise local
            representations W_p of the student's G1 (``"patch"``: KoLeo over each sequence's patch features,
            averaged), or DINOv2's class tokens of the batch (``"cls"``).
        global_masking, local_masking: Table 6: ``"stm"`` (semantic tube masking, the paper's), ``"motion"`` (MAMP's
            motion-aware, "Limited"), ``"random"`` (independent joint masking) or ``"none"``.
        mask_ratio: STM's total ratio range (appendix C: U[0.5, 0.9]); also the baselines' range.
        local_mask_probability: appendix C: STM on the local (and second global) views with p = 0.5.
        mask_min_area, mask_max_area_fraction: appendix C: A_min 8, A_max 0.5 N.
        rotation, mirroring, scaling: Table 7 per augmentation: ``"skeleton_aware"`` / ``"bone_aware"`` (SAA,
            Algorithms 2-4), ``"limited"`` (the previous ones, Fig. 3 (b)-(d)) or ``"none"``; each applied with
            ``augmentation_probability`` (appendix D: 0.5) to every view, independently (`skeleton_aware_augment`).
        source_frames: the clip the views are cut from: the processor resizes each clip's valid frames to this many
            (Reading: the paper samples from the raw sequence; resizing first keeps batches rectangular).
        classifier_head, classifier_dropout, freeze_encoder, num_labels: downstream heads as GFP's (MAMP's linear
            probe: BatchNorm without affine + linear; fine-tuning: dropout + linear on the features).
    """

    model_type = "slim"
    presets = {
        "slim": {},
        # CPU-sized: 4 layers of width 128, 4096 prototypes.
        "slim-small": {
            "hidden_size": 128,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "head_hidden_size": 512,
            "head_bottleneck_size": 128,
            "num_prototypes": 4096,
        },
    }
    keys_to_ignore_at_inference = ["loss_mfm", "loss_glcl", "loss_koleo", "pooler_output", "hidden_states"]

    def __init__(
        self,
        layout: str = "ntu25",
        in_channels: int = 3,
        num_persons: int = 2,
        num_frames: int = 64,  # section 4.1
        temporal_patch: int = 8,  # section 3.1: 8 x 25 tokens at T = 64
        hidden_size: int = 256,  # appendix A
        num_hidden_layers: int = 8,
        num_attention_heads: int = 8,
        mlp_ratio: float = 4.0,  # Assumed
        num_register_tokens: int = 4,  # appendix A
        rope_base: float = 100.0,  # Assumed
        rope_positions: str = "index",  # Assumed
        drop_path_rate: float = 0.0,
        layer_norm_eps: float = 1e-6,  # DINOv2
        head_hidden_size: int = 2048,  # appendix A
        head_bottleneck_size: int = 256,
        head_layers: int = 3,
        num_prototypes: int = 65536,
        student_temperature: float = 0.1,  # DINOv2 (Assumed)
        teacher_temperature: float = 0.07,
        teacher_warmup_temperature: float = 0.04,
        teacher_temperature_warmup: float = 0.2,  # 30 of 150 epochs
        teacher_momentum: float = 0.994,  # DINOv2 (Assumed)
        weight_decay_end: float | None = None,
        centering: str = "sinkhorn_knopp",  # appendix A
        sinkhorn_iterations: int = 3,
        objective: str = "mfm_glcl",  # Table 5
        glcl_weight: float = 1.0,  # Eq. 7
        glcl_reduction: str = "mean",
        symmetric: bool = True,  # section 3.2 / appendix B: the repeat with G2 as the anchor
        ignore_padding_persons: bool = True,  # Assumed (see above)
        koleo_weight: float = 0.1,  # appendix A
        koleo_target: str = "patch",
        global_masking: str = "stm",  # Table 6
        local_masking: str = "stm",
        mask_ratio: tuple[float, float] | list[float] = (0.5, 0.9),  # appendix C
        local_mask_probability: float = 0.5,
        mask_min_area: int = 8,
        mask_max_area_fraction: float = 0.5,
        rotation: str = "skeleton_aware",  # Table 7
        mirroring: str = "skeleton_aware",
        scaling: str = "bone_aware",
        augmentation_probability: float = 0.5,  # appendix D
        source_frames: int = 128,
        classifier_head: str = "linear_probe",
        classifier_dropout: float = 0.0,
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
        self.num_register_tokens = num_register_tokens
        self.rope_base = rope_base
        self.rope_positions = rope_positions
        self.drop_path_rate = drop_path_rate
        self.layer_norm_eps = layer_norm_eps
        self.head_hidden_size = head_hidden_size
        self.head_bottleneck_size = head_bottleneck_size
        self.head_layers = head_layers
        self.num_prototypes = num_prototypes
        self.student_temperature = student_temperature
        self.teacher_temperature = teacher_temperature
        self.teacher_warmup_temperature = teacher_warmup_temperature
        self.teacher_temperature_warmup = teacher_temperature_warmup
        self.teacher_momentum = teacher_momentum
        self.weight_decay_end = weight_decay_end
        self.centering = centering
        self.sinkhorn_iterations = sinkhorn_iterations
        self.objective = objective
        self.glcl_weight = glcl_weight
        self.glcl_reduction = glcl_reduction
        self.symmetric = symmetric
        self.koleo_weight = koleo_weight
        self.koleo_target = koleo_target
        self.ignore_padding_persons = ignore_padding_persons
        self.global_masking = global_masking
        self.local_masking = local_masking
        self.mask_ratio = [float(r) for r in mask_ratio]
        self.local_mask_probability = local_mask_probability
        self.mask_min_area = mask_min_area
        self.mask_max_area_fraction = mask_max_area_fraction
        self.rotation = rotation
        self.mirroring = mirroring
        self.scaling = scaling
        self.augmentation_probability = augmentation_probability
        self.source_frames = source_frames
        self.classifier_head = classifier_head
        self.classifier_dropout = classifier_dropout
        self.freeze_encoder = freeze_encoder
        super().__init__(**kwargs)
        choices = {
            "rope_positions": ROPE_POSITIONS,
            "centering": TEACHER_CENTERINGS,
            "objective": OBJECTIVES,
            "glcl_reduction": ("mean", "sum"),
            "koleo_target": KOLEO_TARGETS,
            "global_masking": MASK_KINDS,
            "local_masking": MASK_KINDS,
            "rotation": ROTATION_MODES,
            "mirroring": MIRRORING_MODES,
            "scaling": SCALING_MODES,
            "classifier_head": CLASSIFIER_HEADS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if num_frames % temporal_patch:
            raise ValueError(f"num_frames ({num_frames}) must be a multiple of temporal_patch ({temporal_patch})")
        if hidden_size % num_attention_heads or (hidden_size // num_attention_heads) % 2:
            raise ValueError("hidden_size / num_attention_heads must be an even integer (RoPE rotates channel pairs)")
        if len(self.mask_ratio) != 2 or not 0 <= self.mask_ratio[0] <= self.mask_ratio[1] < 1:
            raise ValueError(f"mask_ratio must be a range (low, high) within [0, 1), got {mask_ratio}")

    @property
    def num_temporal_tokens(self) -> int:
        """T' = T / P_T of a global view."""
        return self.num_frames // self.temporal_patch

    @property
    def uses_mfm(self) -> bool:
        return self.objective.startswith("mfm")

    @property
    def uses_contrast(self) -> bool:
        return self.objective != "mfm"

    @property
    def input_specs(self) -> tuple[InputSpec, ...]:
        """Clips of ``num_frames`` frames: (N, C, T, V, M). Pre-training also takes the collator's other views."""
        return (InputSpec("skeletons", "skeleton", self.layout, self.in_channels, self.num_persons, self.num_frames),)
