"""Tiny randomly initialised transformers pose models (RT-DETR detector + VitPose) and synthetic videos, for the
tests of the video -> skeleton path. Nothing is downloaded: the real code path runs on models of a few kB."""

from pathlib import Path

import av  # the [video] extra (in dev)
import numpy as np
import torch
from transformers import (
    RTDetrConfig,
    RTDetrForObjectDetection,
    RTDetrImageProcessorPil,
    RTDetrResNetConfig,
    VitPoseBackboneConfig,
    VitPoseConfig,
    VitPoseForPoseEstimation,
    VitPoseImageProcessorPil,
)

from skeleton_models.data import PoseExtractor


def tiny_detector(seed: int = 0):
    """An RT-DETR with a 4-stage ResNet of 8-64 channels, 10 queries and one class, ``person``."""
    torch.manual_seed(seed)
    backbone = RTDetrResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 16, 32, 64],
        depths=[1, 1, 1, 1],
        layer_type="basic",
        out_features=["stage2", "stage3", "stage4"],
    )
    config = RTDetrConfig(
        backbone_config=backbone,
        encoder_in_channels=[16, 32, 64],
        encoder_hidden_dim=16,
        encoder_ffn_dim=32,
        encoder_attention_heads=2,
        d_model=16,
        decoder_in_channels=[16, 16, 16],
        decoder_ffn_dim=32,
        decoder_layers=1,
        decoder_attention_heads=2,
        num_queries=10,
        num_denoising=0,
        id2label={0: "person"},
        label2id={"person": 0},
    )
    return RTDetrForObjectDetection(config).eval(), RTDetrImageProcessorPil(size={"height": 64, "width": 64})


def tiny_pose_model(seed: int = 0):
    """A one-layer VitPose (hidden size 16) for 64 x 48 person crops, 17 COCO keypoints."""
    torch.manual_seed(seed)
    backbone = VitPoseBackboneConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=[64, 48],
        patch_size=[16, 16],
        part_features=4,
        mlp_ratio=2,
        out_indices=[1],
        out_features=["stage1"],
    )
    model = VitPoseForPoseEstimation(VitPoseConfig(backbone_config=backbone, num_labels=17)).eval()
    return model, VitPoseImageProcessorPil(size={"height": 64, "width": 48})


def tiny_extractor(**kwargs) -> PoseExtractor:
    """A `PoseExtractor` of the tiny models; every query of the random detector passes ``detection_threshold=0``."""
    detector, detector_processor = tiny_detector()
    pose, pose_processor = tiny_pose_model()
    kwargs.setdefault("detection_threshold", 0.0)
    return PoseExtractor(detector, detector_processor, pose, pose_processor, **kwargs)


def synthetic_frames(num_frames: int = 6, height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8 frames: a bright block (a 'person') moving right over a noisy background."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 60, (num_frames, height, width, 3), dtype=np.uint8)
    for t in range(num_frames):
        x = 4 + 3 * t
        frames[t, 8:40, x : x + 14] = (220, 180, 160)
    return frames


def write_video(path: Path, frames: np.ndarray, fps: int = 10) -> Path:
    """Encode frames as an MPEG-4 video with PyAV."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.height, stream.width, stream.pix_fmt = frames.shape[1], frames.shape[2], "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
