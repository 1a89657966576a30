"""Processing: raw skeleton clips (and texts) -> model inputs, saved next to every checkpoint.

- `SkeletonProcessor` (a feature extractor) prepares one or more named skeleton inputs -- e.g. ``skeletons`` for
  the body and ``hands`` for two hands -- each with its own dataset column, layout, persons, coordinate channels
  and stream, and all with the *same* temporal crop and rotation of a clip, so that the inputs stay aligned.
- `SkeletonTextProcessor` (a transformers ``ProcessorMixin``) pairs it with a tokenizer for models that also read
  text (HocSLM's descriptions); the tokenizer does its own padding and truncation.

Both are saved with ``save_pretrained`` and loaded with ``from_pretrained`` (and ``AutoFeatureExtractor`` /
``AutoProcessor``), so that training and inference prepare inputs identically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import numpy as np
import torch
from transformers import BatchFeature, FeatureExtractionMixin, ProcessorMixin

from .augmentation import (
    crop_interval,
    person_activity,
    random_rotation_matrices,
    resample,
    rotate,
    rotate_about_axis,
    valid_frames,
)
from .hands import HANDS_LAYOUT, hands_to_clip, is_per_person_hands
from .remote_code import write_remote_code
from .rgb import IMAGENET_MEAN, IMAGENET_STD, RGB_ROIS_COLUMN
from .skeletons import SkeletonLayout, get_layout

__all__ = [
    "SkeletonProcessor",
    "SkeletonTextProcessor",
    "compute_stream",
    "get_skeleton_spec",
    "parse_stream",
    "skeleton_feature_id",
]

# More persons than this in a clip that has fewer frames than persons is read as a (M, T, V, C) clip by mistake.
MAX_PLAUSIBLE_PERSONS = 5
_STREAM = re.compile(r"^(?P<base>joint|bone(?P<order>\d*))(?P<motion>_motion)?$")
_SPEC_PREFIX = "skeleton_models:"


# -- what a dataset column holds ----------------------------------------------------------------------------------
def skeleton_feature_id(layout: str, coordinate_dims: int) -> str:
    """The ``id`` of a skeleton column's `datasets` feature: its layout and coordinate channels. Kept in the
    feature itself, it survives Parquet, ``push_to_hub``, ``save_to_disk``, ``map`` and ``select``."""
    return _SPEC_PREFIX + json.dumps({"coordinate_dims": coordinate_dims, "layout": layout}, sort_keys=True)


def get_skeleton_spec(dataset, column: str = "skeleton") -> dict:
    """``{"layout": ..., "coordinate_dims": ...}`` of a skeleton column of a dataset (or DatasetDict) built by this
    library, read from the column's feature ``id`` (see `skeleton_feature_id`)."""
    if not hasattr(dataset, "features"):  # a DatasetDict
        dataset = next(iter(dataset.values()))
    if column not in dataset.features:
        raise ValueError(f"the dataset has no column {column!r}; columns: {sorted(dataset.features)}")
    feature_id = getattr(dataset.features[column], "id", None) or ""
    if not feature_id.startswith(_SPEC_PREFIX):
        raise ValueError(
            f"the dataset's {column!r} column does not say which skeleton layout it holds (it was not built by "
            "skeleton_models.data.load_skeleton_dataset); pass layout= and coordinate_dims= yourself"
        )
    return json.loads(feature_id[len(_SPEC_PREFIX) :])


# -- streams -------------------------------------------------------------------------------------------------------
def parse_stream(stream: str) -> tuple[int, bool]:
    """``"joint"`` -> (0, False); ``"bone"`` -> (1, False); ``"bone2_motion"`` -> (2, True).

    The first number is the bone order k (0 = joints themselves), the flag says whether frame differences are taken.
    """
    match = _STREAM.match(stream)
    if match is None:
        raise ValueError(
            f"unknown stream {stream!r}; expected 'joint', 'bone' or 'bone<k>', optionally followed by "
            "'_motion' (e.g. 'joint_motion', 'bone2')"
        )
    order = 0 if match["base"] == "joint" else int(match["order"] or 1)
    if match["base"] != "joint" and order < 1:
        raise ValueError(f"bone order must be >= 1 in stream {stream!r}")
    return order, match["motion"] is not None


def compute_stream(clips: np.ndarray, layout: SkeletonLayout, stream: str, coordinate_dims: int = 3) -> np.ndarray:
    """Joint, bone, k-th order bone and motion streams of (N, T, M, V, C) clips.

    - bone of order k: each joint minus its k-th ancestor (zero at the centre joint; k = 1 gives CTR-GCN's bones,
      k = 2 the second-order "long bone" stream of HocSLM's 6-stream ensemble, Fig. 5). The ancestor walk stops at
      the centre joint, so a joint fewer than k bones from the centre gets joint - centre. InfoGCN's "k-th mode"
      (stnoah1/infogcn ``get_A``: x' = (I - A_outward^k) x) differs exactly at those joints: there the path dies at
      the root, and they keep their raw coordinates (the centre too, where ours is zero) -- for ``ntu25`` and
      k = 2, joints 21, 2, 3, 5 and 9 (1-based); for k = 1 only the centre joint;
    - motion: the difference to the next frame, zero at the last frame (CTR-GCN's ``vel``).
    Score channels beyond `coordinate_dims` are averaged over the two joints of a bone and kept by motion.
    """
    order, motion = parse_stream(stream)
    out = clips
    if order > 0:
        ancestors = layout.ancestors(order)
        out = clips.copy()
        out[..., :coordinate_dims] = clips[..., :coordinate_dims] - clips[..., ancestors, :coordinate_dims]
        if clips.shape[-1] > coordinate_dims:
            out[..., coordinate_dims:] = (clips[..., coordinate_dims:] + clips[..., ancestors, coordinate_dims:]) / 2
    if motion:
        moved = out.copy()
        moved[:, :-1, ..., :coordinate_dims] = out[:, 1:, ..., :coordinate_dims] - out[:, :-1, ..., :coordinate_dims]
        moved[:, -1, ..., :coordinate_dims] = 0.0
        out = moved
    return out


# -- skeletons -----------------------------------------------------------------------------------------------------
_INPUT_DEFAULTS = {
    "name": "skeletons",
    "column": "skeleton",
    "layout": "ntu25",
    "stream": "joint",
    "num_persons": 2,
    "coordinate_dims": 3,
    "center": True,
    "center_joint": None,
}
CENTER_MODES = (True, False, "per_frame")
# The hand input is hand-centric: each hand on its own wrist in every frame (see `SkeletonProcessor`).
HANDS_CENTER = "per_frame"


def _skeleton_input(spec: dict) -> dict:
    """A validated named-input description with every field (see `SkeletonProcessor`)."""
    unknown = set(spec) - set(_INPUT_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} in a skeleton input; fields: {sorted(_INPUT_DEFAULTS)}")
    out = {**_INPUT_DEFAULTS, **spec}
    layout = get_layout(out["layout"])
    out["layout"] = layout.name
    if out["center_joint"] is None:
        out["center_joint"] = layout.origin_joint
    out["center_joint"] = int(out["center_joint"])
    if not 0 <= out["center_joint"] < layout.num_joints:
        raise ValueError(
            f"input {out['name']!r}: center_joint must be a joint of {layout.name!r} (0..{layout.num_joints - 1}), "
            f"got {out['center_joint']}"
        )
    out["num_persons"], out["coordinate_dims"] = int(out["num_persons"]), int(out["coordinate_dims"])
    if "center" not in spec and out["layout"] == HANDS_LAYOUT:
        out["center"] = HANDS_CENTER
    if isinstance(out["center"], (bool, np.bool_)):
        out["center"] = bool(out["center"])
    elif out["center"] not in CENTER_MODES:
        raise ValueError(f"input {out['name']!r}: center must be True, False or 'per_frame', got {out['center']!r}")
    parse_stream(out["stream"])
    if out["num_persons"] < 1:
        raise ValueError(f"input {out['name']!r}: num_persons must be >= 1, got {out['num_persons']}")
    if out["layout"] == HANDS_LAYOUT and out["num_persons"] != 2:
        raise ValueError(
            f"input {out['name']!r}: a {HANDS_LAYOUT!r} input has 2 instances (left hand, right hand), so "
            f"num_persons must be 2, got {out['num_persons']}"
        )
    if out["coordinate_dims"] not in (2, 3):
        raise ValueError(f"input {out['name']!r}: coordinate_dims must be 2 or 3, got {out['coordinate_dims']}")
    return out


# -- images --------------------------------------------------------------------------------------------------------
_IMAGE_DEFAULTS = {"name": "pixel_values", "column": RGB_ROIS_COLUMN, "mean": IMAGENET_MEAN, "std": IMAGENET_STD}


def _image_input(spec: dict) -> dict:
    """A validated image-input description with every field (see `SkeletonProcessor`)."""
    unknown = set(spec) - set(_IMAGE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} in an image input; fields: {sorted(_IMAGE_DEFAULTS)}")
    out = {**_IMAGE_DEFAULTS, **spec}
    out["mean"], out["std"] = [float(v) for v in out["mean"]], [float(v) for v in out["std"]]
    if len(out["mean"]) != 3 or len(out["std"]) != 3 or min(out["std"]) <= 0:
        raise ValueError(f"image input {out['name']!r}: mean and std need 3 values, std > 0")
    return out


class SkeletonProcessor(FeatureExtractionMixin):
    r"""Turns skeleton clips into model inputs: one or more named tensors of shape (N, C, T, V, M).

    Steps, all vectorised over the batch (ARCHITECTURE section 4), for each named input: keep its `num_persons`
    most active persons, centre on its ``center_joint`` (of the first person, at its first valid frame, as
    CTR-GCN's ``seq_translation``; by default the layout's `origin_joint` -- ``ntu25``: joint 2, spine middle, as
    CTR-GCN), optionally rotate to a frontal view, crop the valid frames (random interval in
    training, centred in evaluation) and resample them to `window_size` frames, randomly rotate (training only),
    and compute its stream. The crop interval (from the first input's valid frames), the view alignment (from the
    first input's shoulders) and the random rotation are drawn once per clip and shared by all inputs.

    One input (the common case) is described by the shorthand arguments; several by `inputs`::

        SkeletonProcessor(layout="ntu25", stream="bone")                       # -> skeletons
        SkeletonProcessor(inputs=[
            {"name": "skeletons", "column": "skeleton", "layout": "ntu25"},
            {"name": "hands", "column": "hands", "layout": "hands2x21"},
        ])                                                                     # -> skeletons, hands

    Hands (BHaRNet): a ``hands2x21`` input is the two hands of one person, instance 0 the left hand and instance 1
    the right, each 21 MediaPipe keypoints + 4 zero dummy nodes (25 nodes, like an ntu25 body). It takes ready
    clips (T, 2, 25, C) or the per-person hands of a dataset's ``hands`` column (T, M, 2, 21, C) -- one clip
    (T, M, 2, 21, C), a batch (N, T, M, 2, 21, C) or a list of them -- from which
    `skeleton_models.hands.hands_to_clip` takes the most active person's two hands, missed detections
    interpolated. Its instances are never reordered by activity (`num_persons` must be 2). It is **hand-centric**
    by default (``center="per_frame"``): each hand is centred on its own wrist in every frame, so the hand stream
    holds the hand's shape and articulation, and the wrist trajectory is left to the body stream (Reading: III-F's
    "hand-centric preprocessing"; Assumed: per-frame wrist centring, the paper gives no formula). Dummy nodes stay
    zero in every stream, and the bone streams follow MediaPipe's tree (zero at the wrist and the dummies). The
    crop and the random rotation are the body's (shared by all inputs).

    Args:
        layout: skeleton layout name (``"ntu25"``, ``"nwucla20"``, ``"openpose18"``, ``"coco17"``, ...).
        window_size: output frames (CTR-GCN / HocSLM: 64). (Not `window`: transformers drops an attribute of that
            name when it saves a feature extractor.)
        num_persons: persons M per sample; extra persons are dropped by activity, missing ones are zero.
        stream: ``"joint"``, ``"bone"``, ``"bone2"`` or any of them + ``"_motion"`` (see `compute_stream`).
        coordinate_dims: leading channels that are coordinates (3 for x, y, z; 2 for x, y [+ score]).
        p_interval: training crop ratio interval (CTR-GCN: [0.5, 1]).
        eval_crop: evaluation crop ratio, centred (CTR-GCN's test ``p_interval=[0.95]``).
        random_rotation: maximum random rotation in radians about each axis in training, 0 to disable
            (CTR-GCN ``random_rot``, theta 0.3); only applied to 3-D coordinates.
        center_joint: the joint clips are centred on (see ``inputs``); default the layout's `origin_joint`
            (``ntu25``: index 1, spine middle, as CTR-GCN's preprocessing).
        align_view: rotate each clip about the layout's up axis so that the first person's shoulders are parallel
            to the x axis at the first frame (3-D only; needs a layout with shoulders).
        image_inputs: RGB images that go with the skeletons (BHaRNet-M's ROI mosaics, `skeleton_models.rgb`): dicts
            with ``name`` (default ``"pixel_values"``), ``column`` (default ``"rgb_rois"``), ``mean`` and ``std``
            (default ImageNet's, what the pretrained ResNets expect). An image is (H, W, 3) uint8 per clip; it
            becomes (N, 3, H, W) float32, scaled to [0, 1] and normalised, with no augmentation (Assumed: MMNet's
            released configuration shows none). Image inputs follow the skeleton inputs in `model_input_names`.
        inputs: several named inputs instead of the shorthand: dicts with ``name`` (the model's input), ``column``
            (the dataset column), ``layout``, ``stream``, ``num_persons``, ``coordinate_dims``, ``center`` and
            ``center_joint``; missing fields take the defaults above. ``center``: True (default) subtracts the
            ``center_joint`` of the first person at its first valid frame, ``"per_frame"`` each person's own in
            every frame (the default of a ``hands2x21`` input: its wrist), False leaves the coordinates as they are.
            ``center_joint``: a joint index of the layout; default its `SkeletonLayout.origin_joint` (``ntu25``: 1,
            spine middle, CTR-GCN's; ``nwucla20``: 1; else the graph's centre joint). Processors saved before this
            field existed centred on the graph's centre joint and keep doing so when loaded. Isolated layout nodes
            (``hands2x21``'s dummies) are never moved.
    """

    def __init__(
        self,
        layout: str | None = None,
        window_size: int = 64,
        num_persons: int | None = None,
        stream: str | None = None,
        coordinate_dims: int | None = None,
        p_interval: Sequence[float] = (0.5, 1.0),
        eval_crop: float = 0.95,
        random_rotation: float = 0.3,
        align_view: bool = False,
        inputs: Sequence[dict] | None = None,
        image_inputs: Sequence[dict] | None = None,
        center_joint: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        shorthand = {
            "layout": layout,
            "num_persons": num_persons,
            "stream": stream,
            "coordinate_dims": coordinate_dims,
            "center_joint": center_joint,
        }
        shorthand = {k: v for k, v in shorthand.items() if v is not None}
        if inputs is None:
            inputs = [shorthand]
        elif shorthand:
            raise ValueError(f"give either inputs= or the one-input shorthand {sorted(shorthand)}, not both")
        self.inputs = [_skeleton_input(dict(spec)) for spec in inputs]
        self.image_inputs = [_image_input(dict(spec)) for spec in image_inputs or ()]
        names = [spec["name"] for spec in [*self.inputs, *self.image_inputs]]
        if not names or len(set(names)) < len(names):
            raise ValueError(f"inputs must be a non-empty list with distinct names, got {names}")
        self.window_size = int(window_size)
        self.p_interval = [float(p) for p in p_interval]
        self.eval_crop = float(eval_crop)
        self.random_rotation = float(random_rotation)
        self.align_view = bool(align_view)
        if self.window_size < 1:
            raise ValueError(f"window_size must be >= 1, got {self.window_size}")
        if len(self.p_interval) != 2 or not 0 < self.p_interval[0] <= self.p_interval[1] <= 1:
            raise ValueError(f"p_interval must be [lo, hi] with 0 < lo <= hi <= 1, got {self.p_interval}")
        if not 0 < self.eval_crop <= 1:
            raise ValueError(f"eval_crop must be in (0, 1], got {self.eval_crop}")
        if self.align_view and get_layout(self.layout).shoulders is None:
            raise ValueError(f"align_view needs a layout with shoulders; {self.layout!r} has none")

    # The first input, under the shorthand names (a single-input processor's whole description).
    layout = property(lambda self: self.inputs[0]["layout"], lambda self, v: self._set_primary(layout=v))
    stream = property(lambda self: self.inputs[0]["stream"], lambda self, v: self._set_primary(stream=v))
    num_persons = property(lambda self: self.inputs[0]["num_persons"], lambda self, v: self._set_primary(num_persons=v))
    coordinate_dims = property(
        lambda self: self.inputs[0]["coordinate_dims"], lambda self, v: self._set_primary(coordinate_dims=v)
    )
    center_joint = property(
        lambda self: self.inputs[0]["center_joint"], lambda self, v: self._set_primary(center_joint=v)
    )

    def _set_primary(self, **fields) -> None:
        current = dict(self.inputs[0])
        if "layout" in fields:  # joint indices belong to a layout: a new layout takes its own centring joint
            current.pop("center_joint")
        self.inputs[0] = _skeleton_input({**current, **fields})

    @classmethod
    def from_dict(cls, processor_dict: dict, **kwargs):
        """`FeatureExtractionMixin.from_dict`; a processor saved before ``center_joint`` existed keeps the joint it
        centred on then -- its layout's graph centre -- so old checkpoints see the inputs they were trained on."""
        inputs = processor_dict.get("inputs")
        if inputs is not None and any("center_joint" not in spec for spec in inputs):
            processor_dict = {
                **processor_dict,
                "inputs": [
                    {"center_joint": get_layout(spec.get("layout", _INPUT_DEFAULTS["layout"])).center, **spec}
                    for spec in inputs
                ],
            }
        return super().from_dict(processor_dict, **kwargs)

    @property
    def model_input_names(self) -> list[str]:
        return [spec["name"] for spec in [*self.inputs, *self.image_inputs]]

    @property
    def columns(self) -> list[str]:
        """The dataset columns the inputs are read from."""
        return [spec["column"] for spec in [*self.inputs, *self.image_inputs]]

    @property
    def input_columns(self) -> dict[str, str]:
        """Each input's name -> the dataset column it is read from."""
        return dict(zip(self.model_input_names, self.columns))

    def save_pretrained(self, save_directory, push_to_hub: bool = False, **kwargs):
        """`FeatureExtractionMixin.save_pretrained` plus the processor's remote code and ``auto_map``."""
        auto_map = write_remote_code(self, save_directory)
        if auto_map is not None:
            self.auto_map = auto_map
        return super().save_pretrained(save_directory, push_to_hub=push_to_hub, **kwargs)

    @classmethod
    def for_dataset(cls, dataset, inputs: Sequence[dict] | None = None, **kwargs) -> SkeletonProcessor:
        """A processor for a dataset built by `load_skeleton_dataset`: each input's layout, coordinate channels and
        persons come from its column, any other option (``window_size``, ``stream``, ...) from the keyword
        arguments. For a dataset not built by the library, pass ``layout`` and ``coordinate_dims`` (or give them in
        `inputs`). A per-person ``hands`` column (T, M, 2, 21, C) becomes a ``hands2x21`` input (two instances,
        hand-centric ``center="per_frame"``)::

            SkeletonProcessor.for_dataset(dataset, inputs=[{"column": "skeleton"},
                                                           {"name": "hands", "column": "hands"}])
        """
        split = dataset if hasattr(dataset, "features") else next(iter(dataset.values()))
        specs = []
        for given in inputs or [
            {k: kwargs.pop(k) for k in ("layout", "num_persons", "stream", "coordinate_dims") if k in kwargs}
        ]:
            column = given.get("column", _INPUT_DEFAULTS["column"])
            if column not in split.features:
                raise ValueError(f"the dataset has no column {column!r}; columns: {sorted(split.features)}")
            shape = split.features[column].shape
            derived = {"num_persons": shape[1]}
            if not {"layout", "coordinate_dims"} <= set(given):
                derived.update(get_skeleton_spec(split, column))
            if is_per_person_hands(shape):  # (T, M, 2 hands, 21, C): the two hands of one person per clip
                derived.update(layout=HANDS_LAYOUT, num_persons=2)
            specs.append({**derived, **given})
        return cls(inputs=specs, **kwargs)

    def __call__(
        self,
        skeletons=None,
        labels=None,
        training: bool = False,
        rng: np.random.Generator | None = None,
        return_tensors: str | None = "pt",
        **named_inputs,
    ) -> BatchFeature:
        """Process one clip or a batch of clips.

        Args:
            skeletons: the first input: one clip (T, M, V, C), a batch (N, T, M, V, C), or a sequence of clips with
                different T and M (numpy arrays or tensors) -- e.g. ``dataset["skeleton"]`` read with
                ``.with_format("numpy")``. A ``hands2x21`` input also takes per-person hands (T, M, 2, 21, C) per
                clip (see the class docstring).
            labels: optional class indices, returned as ``labels``.
            training: apply the random crop and augmentation instead of the centred crop.
            rng: random generator for training; a fresh one when omitted.
            return_tensors: ``"pt"`` for torch tensors, ``None`` for numpy arrays.
            **named_inputs: the other inputs by name (e.g. ``hands=...``), clips of the same lengths.

        Returns:
            `BatchFeature` with one (N, C, window_size, V, M) float32 array per skeleton input, one (N, 3, H, W)
            float32 array per image input and optionally ``labels`` (N,).
        """
        given = dict(named_inputs)
        if skeletons is not None:
            given[self.inputs[0]["name"]] = skeletons
        missing = [name for name in self.model_input_names if given.get(name) is None]
        unknown = set(given) - set(self.model_input_names)
        if missing or unknown:
            raise ValueError(
                f"this processor takes the inputs {self.model_input_names}; "
                f"missing {missing}, unknown {sorted(unknown)}"
            )
        names = [spec["name"] for spec in self.inputs]
        arrays = self.process({name: given[name] for name in names}, training=training, rng=rng)
        data = {name: np.ascontiguousarray(out.transpose(0, 4, 1, 3, 2)) for name, out in arrays.items()}
        for spec in self.image_inputs:
            images = self.process_images(given[spec["name"]], spec)
            if len(images) != len(arrays[names[0]]):
                raise ValueError(
                    f"got {len(images)} {spec['name']} images for {len(arrays[names[0]])} {names[0]} clips"
                )
            data[spec["name"]] = images
        if labels is not None:
            data["labels"] = np.asarray(labels, dtype=np.int64).reshape(-1)
            if len(data["labels"]) != len(next(iter(arrays.values()))):
                raise ValueError(f"got {len(data['labels'])} labels for {len(next(iter(arrays.values())))} clips")
        return BatchFeature(data, tensor_type=return_tensors)

    def process(
        self, clips_by_input: dict, training: bool = False, rng: np.random.Generator | None = None
    ) -> dict[str, np.ndarray]:
        """The processing steps on raw clips, keyed by input name.

        Returns, per input, a (N, window_size, num_persons, V, C) float32 array, frames first.
        """
        if training and rng is None:
            rng = np.random.default_rng()
        batches = {}
        for spec in self.inputs:
            clips = self._as_clip_list(clips_by_input[spec["name"]], spec)
            batches[spec["name"]] = self._pad(clips)
        first = self.inputs[0]
        batch, lengths = batches[first["name"]]
        for spec in self.inputs[1:]:
            other = batches[spec["name"]][1]
            if len(other) != len(lengths) or (other != lengths).any():
                raise ValueError(
                    f"input {spec['name']!r} must have as many clips of the same lengths as {first['name']!r}: "
                    f"got lengths {other.tolist()} and {lengths.tolist()}"
                )
        # Valid frames of the first input decide the crop of every input.
        start, end = valid_frames(batch, lengths)
        crop = tuple(self.p_interval) if training else self.eval_crop
        kept_first, kept = crop_interval(start, end - start, self.window_size, crop, rng if training else None)
        rotations = None
        if training and self.random_rotation > 0 and any(s["coordinate_dims"] == 3 for s in self.inputs):
            rotations = random_rotation_matrices(len(lengths), self.random_rotation, rng)
        angle = None
        out = {}
        for spec in self.inputs:
            layout = get_layout(spec["layout"])
            selected = self._select_persons(batches[spec["name"]][0], spec)
            person_valid = np.abs(selected).max(axis=(3, 4)) > 0  # (N, T, M)
            if spec["center"]:
                selected = self._centre(selected, person_valid, layout, spec)
            if self.align_view and spec["coordinate_dims"] == 3:
                if angle is None:
                    angle = self._frontal_angle(selected, person_valid, get_layout(first["layout"]))
                selected = rotate_about_axis(selected, angle, layout.up_axis) * person_valid[..., None, None]
            selected = resample(selected, kept_first, kept, self.window_size)
            if rotations is not None and spec["coordinate_dims"] == 3:
                selected = rotate(selected, rotations)
            stream = compute_stream(selected, layout, spec["stream"], spec["coordinate_dims"])
            out[spec["name"]] = stream.astype(np.float32, copy=False)
        return out

    @staticmethod
    def process_images(images, spec: dict) -> np.ndarray:
        """RGB images -- one (H, W, 3) uint8 (any integer type, values 0-255), a batch (N, H, W, 3) or a list of
        them -- -> (N, 3, H, W) float32,
        scaled to [0, 1] and normalised with the input's ``mean`` and ``std``."""
        name = spec["name"]
        if isinstance(images, torch.Tensor):
            images = images.detach().cpu().numpy()
        if isinstance(images, np.ndarray) and images.dtype != object and images.ndim == 3:
            images = images[None]
        shapes = {np.shape(image) for image in images} if len(images) else set()
        if len(shapes) != 1:
            raise ValueError(f"{name}: expected RGB images of one shape (H, W, 3) uint8, got shapes {sorted(shapes)}")
        batch = np.stack([np.asarray(image) for image in images])
        # integers 0-255 (`datasets`' numpy format returns a uint8 column as int64)
        if batch.ndim != 4 or batch.shape[-1] != 3 or batch.dtype.kind not in "iu":
            raise ValueError(
                f"{name}: expected RGB images (H, W, 3) uint8 (one, a batch or a list), got {batch.dtype} "
                f"{batch.shape[1:] if batch.ndim > 1 else batch.shape}"
            )
        if batch.size and (batch.min() < 0 or batch.max() > 255):
            raise ValueError(f"{name}: RGB values must be in 0..255, got {batch.min()}..{batch.max()}")
        mean = np.asarray(spec["mean"], dtype=np.float32)
        std = np.asarray(spec["std"], dtype=np.float32)
        out = (batch.astype(np.float32) / 255.0 - mean) / std
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    # -- steps ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _as_clip_list(skeletons, spec: dict) -> list[np.ndarray]:
        name, layout, dims = spec["name"], get_layout(spec["layout"]), spec["coordinate_dims"]
        hands = layout.name == HANDS_LAYOUT
        if isinstance(skeletons, torch.Tensor):
            skeletons = skeletons.detach().cpu().numpy()
        if isinstance(skeletons, np.ndarray) and skeletons.dtype != object:
            raw = int(hands and is_per_person_hands(skeletons))  # per-person hands have one more axis per clip
            if skeletons.ndim == 4 + raw:
                skeletons = [skeletons]
            elif skeletons.ndim != 5 + raw:
                raise ValueError(
                    f"{name} must be one clip (T, M, V, C), a batch (N, T, M, V, C) or a list of "
                    f"clips, got an array of shape {skeletons.shape}"
                    + (" (or per-person hands (T, M, 2, 21, C), one clip or a batch)" if hands else "")
                )
        if not isinstance(skeletons, (list, tuple, np.ndarray)) or len(skeletons) == 0:
            raise ValueError(f"{name} must be a non-empty clip or sequence of clips, got {type(skeletons).__name__}")
        clips = []
        for i, clip in enumerate(skeletons):
            clip = clip.detach().cpu().numpy() if isinstance(clip, torch.Tensor) else np.asarray(clip)
            if hands and clip.ndim == 5 and is_per_person_hands(clip) and clip.shape[-1] >= dims:
                if clip.shape[0] < 1 or clip.shape[1] < 1 or not np.isfinite(clip).all():
                    raise ValueError(
                        f"{name}, clip {i}: per-person hands need at least one frame and one person and finite "
                        f"values, got shape {clip.shape}"
                    )
                clip = hands_to_clip(clip, dims)[0]
            if clip.ndim != 4 or clip.shape[2] != layout.num_joints or clip.shape[3] < dims:
                hint = ""
                if clip.ndim == 4 and clip.shape[1] == layout.num_joints and clip.shape[2] != layout.num_joints:
                    hint = " (joints on axis 1: a (T, V, M, C) clip? give clip.transpose(0, 2, 1, 3))"
                raise ValueError(
                    f"{name}, clip {i}: expected shape (T, M, V={layout.num_joints}, C>={dims}) "
                    f"for layout {layout.name!r}"
                    + (f" or per-person hands (T, M, 2, 21, C>={dims})" if hands else "")
                    + f", got {clip.shape}{hint}"
                )
            if clip.shape[1] > MAX_PLAUSIBLE_PERSONS and clip.shape[1] > clip.shape[0]:
                raise ValueError(
                    f"{name}, clip {i}: shape {clip.shape} reads as {clip.shape[0]} frames of {clip.shape[1]} "
                    f"persons; expected (T, M, V, C), frames first -- a (M, T, V, C) clip? give "
                    "clip.transpose(1, 0, 2, 3)"
                )
            if hands and clip.shape[1] != 2:
                raise ValueError(
                    f"{name}, clip {i}: a {HANDS_LAYOUT!r} clip has 2 instances (left hand, right hand), got shape "
                    f"{clip.shape}"
                )
            if clip.shape[0] < 1 or clip.shape[1] < 1:
                raise ValueError(f"{name}, clip {i}: needs at least one frame and one person, got shape {clip.shape}")
            if not np.isfinite(clip).all():
                raise ValueError(f"{name}, clip {i}: contains NaN or infinite values")
            clips.append(clip.astype(np.float32, copy=False))
        if len({c.shape[3] for c in clips}) > 1:
            channels = sorted({c.shape[3] for c in clips})
            raise ValueError(f"{name}: all clips must have the same number of channels, got {channels}")
        return clips

    @staticmethod
    def _pad(clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.array([c.shape[0] for c in clips], dtype=np.int64)
        persons = max(c.shape[1] for c in clips)
        if all(c.shape == clips[0].shape for c in clips):
            return np.stack(clips), lengths
        batch = np.zeros((len(clips), lengths.max(), persons, *clips[0].shape[2:]), dtype=np.float32)
        for i, clip in enumerate(clips):
            batch[i, : clip.shape[0], : clip.shape[1]] = clip
        return batch, lengths

    @staticmethod
    def _select_persons(batch: np.ndarray, spec: dict) -> np.ndarray:
        """Keep the `num_persons` most active persons (largest summed coordinate variance over their frames).

        The instances of a ``hands2x21`` input (left hand, right hand) keep their order."""
        n, t, m = batch.shape[:3]
        keep = spec["num_persons"]
        if spec["layout"] == HANDS_LAYOUT:
            return batch[:, :, :keep]
        energy = person_activity(batch, spec["coordinate_dims"])  # (N, M)
        order = np.argsort(-energy, axis=1, kind="stable")[:, :keep]
        selected = np.take_along_axis(batch, order[:, None, :, None, None], axis=2)
        if selected.shape[2] < keep:
            pad = np.zeros((n, t, keep - selected.shape[2], *batch.shape[3:]), dtype=batch.dtype)
            selected = np.concatenate([selected, pad], axis=2)
        return selected

    @staticmethod
    def _centre(batch: np.ndarray, person_valid: np.ndarray, layout: SkeletonLayout, spec: dict) -> np.ndarray:
        """Subtract the input's ``center_joint`` of person 0 at its first valid frame (``center=True``) or of each
        person in each frame (``center="per_frame"``); missing persons stay zero, and so do the layout's isolated
        (padding) nodes."""
        joint, dims, mode = spec["center_joint"], spec["coordinate_dims"], spec["center"]
        if mode == "per_frame":
            origin = batch[:, :, :, joint, None, :dims]  # (N, T, M, 1, D)
        else:
            first = person_valid[:, :, 0].argmax(1)  # (N,)
            origin = batch[np.arange(len(batch)), first, 0, joint, :dims][:, None, None, None, :]
        moved = np.ones((layout.num_joints, 1), dtype=batch.dtype)
        moved[list(layout.isolated)] = 0
        out = batch.copy()
        out[..., :dims] -= origin * moved
        out *= person_valid[..., None, None]
        return out

    @staticmethod
    def _frontal_angle(batch: np.ndarray, person_valid: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
        """(N,) rotation about the up axis that points person 0's left-to-right shoulder vector along +x."""
        first = person_valid[:, :, 0].argmax(1)
        left, right = layout.shoulders
        idx = np.arange(len(batch))
        across = batch[idx, first, 0, right, :3] - batch[idx, first, 0, left, :3]  # (N, 3)
        a, b = [i for i in range(3) if i != layout.up_axis]
        return np.arctan2(across[:, b], across[:, a])


# -- skeletons + text ----------------------------------------------------------------------------------------------
class SkeletonTextProcessor(ProcessorMixin):
    """A `SkeletonProcessor` paired with a tokenizer, for models that read text too.

    ``processor(skeletons, text=[...])`` returns the skeleton inputs and ``<text_input>_ids`` /
    ``<text_input>_mask`` (N, L): each text followed by the tokenizer's end-of-sequence token (so that a language
    model learns where a description ends), truncated to `max_text_tokens` and right-padded to the longest text
    of the batch by the tokenizer itself.

    Args:
        feature_extractor: the `SkeletonProcessor`.
        tokenizer: any transformers tokenizer.
        text_column: the dataset column the texts are read from.
        text_input: the stem of the model's text inputs (``"description"`` -> ``description_ids``,
            ``description_mask``).
        max_text_tokens: texts are cut to this many tokens (including the end-of-sequence token).
    """

    feature_extractor_class_type = SkeletonProcessor  # registered with AutoFeatureExtractor with the processor

    def __init__(
        self,
        feature_extractor: SkeletonProcessor,
        tokenizer,
        text_column: str = "description",
        text_input: str = "description",
        max_text_tokens: int = 64,
    ):
        self.text_column = text_column
        self.text_input = text_input
        self.max_text_tokens = int(max_text_tokens)
        super().__init__(feature_extractor, tokenizer)

    @property
    def model_input_names(self) -> list[str]:
        return [*self.feature_extractor.model_input_names, f"{self.text_input}_ids", f"{self.text_input}_mask"]

    @property
    def columns(self) -> list[str]:
        """The dataset columns the inputs are read from."""
        return [*self.feature_extractor.columns, self.text_column]

    def save_pretrained(self, save_directory, push_to_hub: bool = False, **kwargs):
        """`ProcessorMixin.save_pretrained` plus the processors' remote code and ``auto_map``."""
        auto_map = write_remote_code(self, save_directory)
        if auto_map is not None:
            self.auto_map = auto_map
        self.feature_extractor.save_pretrained(save_directory)
        return super().save_pretrained(save_directory, push_to_hub=push_to_hub, **kwargs)

    def __call__(
        self,
        skeletons=None,
        text: str | list[str] | None = None,
        labels=None,
        training: bool = False,
        rng: np.random.Generator | None = None,
        return_tensors: str | None = "pt",
        **named_inputs,
    ) -> BatchFeature:
        """Process clips (see `SkeletonProcessor.__call__`) and, when given, one text per clip."""
        data = {}
        if skeletons is not None or named_inputs:
            data.update(self.feature_extractor(skeletons, labels, training, rng, return_tensors, **named_inputs))
        if text is not None:
            data.update(self.tokenize(text, return_tensors))
        return BatchFeature(data, tensor_type=return_tensors)

    def tokenize(self, text: str | list[str], return_tensors: str | None = "pt") -> dict:
        """``<text_input>_ids`` and ``<text_input>_mask`` of texts (see the class docstring)."""
        texts = [text] if isinstance(text, str) else [str(t) for t in text]
        eos = self.tokenizer.eos_token or ""
        encoded = self.tokenizer(
            [t + eos for t in texts],
            add_special_tokens=False,
            padding="longest",
            truncation=True,
            max_length=self.max_text_tokens,
            padding_side="right",
            return_tensors=return_tensors,
        )
        return {f"{self.text_input}_ids": encoded["input_ids"], f"{self.text_input}_mask": encoded["attention_mask"]}
