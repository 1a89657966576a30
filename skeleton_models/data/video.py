"""Reading RGB videos: the frames of a video file, a folder of images or a ``.npy`` array (the input of the
extraction scripts, `examples/extract_hands.py` and `examples/extract_rgb_rois.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["read_frames", "save_npy_atomic", "video_sources"]

VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def video_sources(root: Path, id_pattern: str = r"^(.*?)(?:_rgb)?$") -> list[tuple[str, Path]]:
    """(sample id, path) of every video file, frame folder or ``.npy`` frame array directly under `root`; the
    sample id is the name without a suffix matched by `id_pattern` (NTU's ``_rgb``)."""
    found = []
    for path in sorted(Path(root).iterdir()):
        if path.is_dir() or path.suffix.lower() in VIDEO_SUFFIXES | {".npy"}:
            name = path.name if path.is_dir() else path.stem
            match = re.match(id_pattern, name)
            found.append((match.group(1) if match else name, path))
    return found


def read_frames(path: Path) -> Iterator[np.ndarray]:
    """The RGB frames (H, W, 3) uint8 of a video file (needs PyAV), a folder of images (needs Pillow) or a ``.npy``
    (T, H, W, 3) array, in order. Raises ValueError for a source without frames."""
    path = Path(path)
    if path.is_dir():
        from PIL import Image  # optional dependency (the dev extra)

        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{path}: no frame images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for file in files:
            with Image.open(file) as image:
                yield np.asarray(image.convert("RGB"))
        return
    if path.suffix.lower() == ".npy":
        frames = np.load(path, mmap_mode="r", allow_pickle=False)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
            raise ValueError(f"{path}: expected RGB frames (T>=1, H, W, 3) uint8, got {frames.dtype} {frames.shape}")
        for frame in frames:
            yield np.asarray(frame)
        return
    try:
        import av  # optional dependency: PyAV decodes video files
    except ImportError:
        raise ValueError(
            f"{path}: reading video files needs PyAV (pip install av), or pass folders of frames"
        ) from None
    count = 0
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                count += 1
                yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as err:
        raise ValueError(f"{path}: cannot decode the video ({err})") from None
    if count == 0:
        raise ValueError(f"{path}: no video frames")


def save_npy_atomic(target: Path, array: np.ndarray) -> None:
    """Write `array` to the ``.npy`` `target` through a ``.partial`` file renamed at the end, so that a file is
    complete or absent and an interrupted extraction run can skip what is already there."""
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as f:
        np.save(f, array)
    partial.replace(target)
