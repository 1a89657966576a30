"""Crop BHaRNet-M's RGB input from NTU RGB+D videos: one ROI mosaic per sample (MMNet's regions of interest).

For every video under `--videos` whose sample has a `.skeleton` file under `--skeletons`, the skeleton's actors are
selected as the NTU loader selects them (CTR-GCN's denoising), and `<output>/<sample_id>.npy` gets the mosaic
(5 x `--patch_size`, `--frames` x `--patch_size`, 3) uint8 that the loader joins with
``load_skeleton_dataset("ntu60", data_dir=..., rgb_dir=<output>)``: rows are MMNet's regions (head, right hand,
left hand, right ankle, left ankle) of the most active actor, columns `--frames` frames at the centres of equal
segments of the skeleton's frames (`skeleton_models.rgb`).

Where the regions are: NTU's own projection of every joint into the colour camera (colorX, colorY of the
`.skeleton` files, pixels of the 1920 x 1080 video), scaled when the videos were resized. How large they are:
`--roi_size` metres at the joint's depth, through the colour camera's focal length `--focal` (Assumed: MMNet
crops fixed-size boxes from its own preprocessed frames; 0.3 m holds a hand with its fingers or a head, and
1081 px is the Kinect v2 colour camera's nominal focal length). A region whose joint is not tracked in a frame
is black.

A video is a video file (``S001C001P001R001A001_rgb.avi``; needs PyAV: ``pip install av``), a folder of frame
images or a ``.npy`` array of RGB frames (T, H, W, 3) uint8. Samples already written are skipped, so an interrupted
run continues; samples that fail are listed with the reason on stdout and in `<output>/extract_report.json`.

    python examples/extract_rgb_rois.py --videos /data/nturgbd_rgb --skeletons /data/nturgbd_skeletons \\
        --output /data/ntu_rgb_rois
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from skeleton_models.augmentation import person_activity
from skeleton_models.data.ntu import load_ntu_sample
from skeleton_models.data.parsing import SkeletonParseError
from skeleton_models.data.video import read_frames, save_npy_atomic, video_sources
from skeleton_models.rgb import MMNET_ROI_JOINTS, roi_frame_indices, roi_joint_indices, roi_mosaic

NTU_VIDEO_SIZE = (1920, 1080)  # width, height of the videos NTU's colorX / colorY refer to
KINECT_V2_COLOUR_FOCAL = 1081.0  # pixels, at 1920 x 1080 (nominal)
REPORT_NAME = "extract_report.json"


def sample_mosaic(
    skeleton_file: Path,
    video: Path,
    num_frames: int = 5,
    patch_size: int = 45,
    roi_size: float = 0.3,
    focal: float = KINECT_V2_COLOUR_FOCAL,
) -> np.ndarray:
    """The ROI mosaic of one NTU sample: its skeleton file (actors, colour-camera joints) and its RGB video."""
    skeleton, _, frames, declared, colour = load_ntu_sample(skeleton_file, return_frames=True, return_colour=True)
    person = int(np.argmax(person_activity(skeleton[None])[0]))
    rows = roi_frame_indices(len(skeleton), num_frames)  # skeleton frames shown
    wanted = {int(frames[r]) for r in rows}  # their video frames
    images, count = {}, 0
    for index, image in enumerate(read_frames(video)):
        count += 1
        if index in wanted:
            images[index] = image
    if count != declared:
        raise ValueError(f"the video has {count} frames, the skeleton file declares {declared}: not aligned")
    picked = np.stack([images[int(frames[r])] for r in rows])  # (F, H, W, 3)
    height, width = picked.shape[1:3]
    scale = np.array([width / NTU_VIDEO_SIZE[0], height / NTU_VIDEO_SIZE[1]])
    joints = roi_joint_indices("ntu25", MMNET_ROI_JOINTS)
    centres = colour[rows][:, person][:, joints] * scale  # (F, P, 2)
    depth = skeleton[rows][:, person][:, joints, 2]  # (F, P) metres
    untracked = ~np.abs(skeleton[rows][:, person][:, joints]).any(-1) | (depth <= 0)
    centres[untracked] = np.nan
    boxes = roi_size * focal * scale.mean() / np.where(untracked, 1.0, depth)
    return roi_mosaic(picked, centres, boxes, patch_size)


def extract_folder(videos: Path, skeletons: Path, output: Path, **options) -> dict:
    """`sample_mosaic` for every video of `videos` with a skeleton file in `skeletons`; returns the report."""
    output.mkdir(parents=True, exist_ok=True)
    skeleton_files = {p.stem: p for p in Path(skeletons).rglob("*.skeleton")}
    report = {"written": [], "existing": [], "failed": {}}
    for sample_id, video in video_sources(videos):
        target = output / f"{sample_id}.npy"
        if target.exists():
            report["existing"].append(sample_id)
            continue
        if sample_id not in skeleton_files:
            report["failed"][sample_id] = f"no {sample_id}.skeleton under {skeletons}"
            continue
        try:
            mosaic = sample_mosaic(skeleton_files[sample_id], video, **options)
        except (SkeletonParseError, ValueError) as err:
            report["failed"][sample_id] = str(err)
            continue
        save_npy_atomic(target, mosaic)  # complete or absent: an interrupted run can continue
        report["written"].append(sample_id)
    (output / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, required=True, help="NTU RGB videos (or frame folders / .npy arrays)")
    parser.add_argument("--skeletons", type=Path, required=True, help="the samples' .skeleton files")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=5, help="columns of the mosaic (MMNet: 5)")
    parser.add_argument("--patch_size", type=int, default=45, help="tile side in pixels (MMNet: 45)")
    parser.add_argument("--roi_size", type=float, default=0.3, help="region side in metres at the joint's depth")
    parser.add_argument("--focal", type=float, default=KINECT_V2_COLOUR_FOCAL, help="pixels, at 1920 x 1080")
    args = parser.parse_args(argv)
    report = extract_folder(
        args.videos,
        args.skeletons,
        args.output,
        num_frames=args.frames,
        patch_size=args.patch_size,
        roi_size=args.roi_size,
        focal=args.focal,
    )
    print(f"written {len(report['written'])}, already there {len(report['existing'])}, failed {len(report['failed'])}")
    for sample_id, reason in report["failed"].items():
        print(f"  {sample_id}: {reason}")
    return report


if __name__ == "__main__":
    main()
