"""RGB for BHaRNet-M: videos -> frames, and frames + 2-D joint positions -> the ROI mosaic its RGB stream reads.

BHaRNet-M's RGB stream follows MMNet (Bruce et al., TPAMI 2022; code bruceyo/MMNet): the RGB input is not the whole
frame but a *mosaic of regions of interest* -- crops around a few body joints (head, both hands, both ankles) in a
few frames of the clip, tiled into one image that a 2-D CNN (ResNet-18) reads. Rows are body parts, columns are
frames (MMNet: 5 parts x 5 frames of 45 px = a 225 x 225 image), so that a per-part weight from the skeleton stream
can scale each row (`BHaRNetForSkeletonClassification`, the guidance of section III-E).

- `roi_frame_indices`: which frames of a clip the columns show (the centres of equal segments).
- `roi_mosaic`: frames (F, H, W, 3) + the parts' pixel positions (F, P, 2) -> the mosaic (P x patch, F x patch, 3).

A dataset's ``rgb_rois`` column holds one mosaic per sample (the synthetic benchmark renders them with
``rgb=True``; for NTU, `examples/extract_rgb_rois.py` crops them from the RGB videos at NTU's colour-camera joint
positions, and the loader joins them with ``rgb_dir=``). `SkeletonProcessor` normalises a mosaic into the
``pixel_values`` (N, 3, P x patch, F x patch) of the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .skeletons import SkeletonLayout, get_layout

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MMNET_ROI_JOINTS",
    "RGB_ROIS_COLUMN",
    "roi_frame_indices",
    "roi_joint_indices",
    "roi_mosaic",
]

# MMNet's five regions (net/mmn.py: joints [3, 11, 7, 18, 14] of NTU, 0-based): head, right hand, left hand, right
# ankle, left ankle -- in this order, the rows of the mosaic.
MMNET_ROI_JOINTS = ("head", "right_hand", "left_hand", "right_ankle", "left_ankle")
RGB_ROIS_COLUMN = "rgb_rois"
# The statistics the ImageNet-pretrained ResNets were trained with (torchvision / microsoft/resnet-18).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def roi_joint_indices(layout: str | SkeletonLayout, names: Sequence[str] = MMNET_ROI_JOINTS) -> list[int]:
    """Indices in `layout` of the joints named `names` (the ROI parts), with an error naming the missing ones."""
    layout = get_layout(layout) if isinstance(layout, str) else layout
    missing = [n for n in names if n not in layout.joint_names]
    if missing:
        raise ValueError(
            f"layout {layout.name!r} has no joints {missing} for the RGB regions of interest; give joint names of "
            f"this layout ({', '.join(layout.joint_names)})"
        )
    return [layout.joint_names.index(n) for n in names]


def roi_frame_indices(length: int, num_frames: int) -> np.ndarray:
    """The `num_frames` frames of a clip of `length` frames that a mosaic shows: the centre of each of `num_frames`
    equal segments (a clip shorter than `num_frames` repeats frames)."""
    if length < 1 or num_frames < 1:
        raise ValueError(f"need length >= 1 and num_frames >= 1, got {length} and {num_frames}")
    return np.minimum(((np.arange(num_frames) + 0.5) * length / num_frames).astype(np.int64), length - 1)


def roi_mosaic(frames, centres, box_sizes, patch_size: int) -> np.ndarray:
    """Tile square crops of `frames` around `centres` into one image: rows are parts, columns are frames.

    Args:
        frames: (F, H, W, 3) uint8 RGB frames.
        centres: (F, P, 2) pixel positions (x, y) of the P parts in each frame, pixel (i, j)'s centre at (i, j);
            a non-finite position (a joint not tracked in that frame) gives a black tile.
        box_sizes: side of each crop in pixels: a number, or (F, P) per part and frame (e.g. a fixed physical size
            seen at each joint's depth). Parts of a crop outside the frame are black.
        patch_size: side of each tile in the mosaic (MMNet: 45).

    Returns:
        (P x patch_size, F x patch_size, 3) uint8: tile (p, f) is part p in frame f.
    """
    frames = np.asarray(frames)
    centres = np.asarray(centres, dtype=np.float64)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be RGB frames (F, H, W, 3) uint8, got {frames.dtype} {frames.shape}")
    if centres.ndim != 3 or centres.shape[0] != frames.shape[0] or centres.shape[2] != 2:
        raise ValueError(f"centres must be (F={frames.shape[0]}, P, 2) pixel positions, got {centres.shape}")
    num_frames, height, width = frames.shape[:3]
    parts = centres.shape[1]
    boxes = np.broadcast_to(np.asarray(box_sizes, dtype=np.float64), (num_frames, parts))
    if not (np.isfinite(boxes) & (boxes > 0)).all():
        raise ValueError("box_sizes must be positive")
    # Sample every tile on a patch x patch grid of its box (bilinear, with black outside the frame): one
    # grid_sample call for all tiles.
    steps = (torch.arange(patch_size, dtype=torch.float64) + 0.5) / patch_size - 0.5  # (S,) in [-0.5, 0.5]
    box = torch.from_numpy(boxes.copy())[..., None]  # (F, P, 1)
    xs = torch.from_numpy(np.nan_to_num(centres[..., 0:1], nan=-1e6, posinf=-1e6, neginf=-1e6)) + box * steps
    ys = torch.from_numpy(np.nan_to_num(centres[..., 1:2], nan=-1e6, posinf=-1e6, neginf=-1e6)) + box * steps
    # pixel -> grid_sample's [-1, 1] (align_corners=False: pixel i covers [i, i + 1), its centre at i + 0.5)
    gx = (xs + 0.5) / width * 2 - 1  # (F, P, S)
    gy = (ys + 0.5) / height * 2 - 1
    grid = torch.stack(torch.broadcast_tensors(gx[:, :, None, :], gy[:, :, :, None]), dim=-1)  # (F, P, S, S, 2)
    image = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # (F, 3, H, W)
    tiles = F.grid_sample(
        image, grid.reshape(num_frames, parts * patch_size, patch_size, 2).float(), align_corners=False
    )  # (F, 3, P*S, S): the parts of frame f stacked vertically
    mosaic = tiles.permute(2, 0, 3, 1).reshape(parts * patch_size, num_frames * patch_size, 3)
    return mosaic.round().clamp(0, 255).to(torch.uint8).numpy()
