"""Describe each clip's motion in text with a vision-language model: HocSLM's description step (section 3.1).

The paper passes the RGB videos to Qwen3-VL. This script runs any `transformers` image-text-to-text model with a
chat template (Qwen3-VL, LLaVA, ...) on a few frames sampled from each video and writes one JSON line per clip,
``{"sample_id": ..., "description": ...}`` -- the file `skeleton_models.data.add_descriptions` reads. Clips that
are already in the output file are skipped, so an interrupted run continues where it stopped.

    python examples/generate_descriptions.py --model Qwen/Qwen3-VL-8B-Instruct \
        --videos /data/nturgbd_rgb --output descriptions.jsonl

`--videos` holds video files (``S001C001P001R001A001_rgb.avi``; reading them needs PyAV: ``pip install av``) or one
folder of frame images per clip (``S001C001P001R001A001/000001.jpg``, ...). The sample id is the file or folder
name, without the NTU ``_rgb`` suffix. Needs Pillow.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import torch
from transformers import AutoModelForImageTextToText, AutoProcessor

PROMPT = (
    "These are frames of a short video, in order. In one sentence, describe the body motion of the person or people: "
    "which body parts move, in which direction, and in what order. Do not describe clothing or the room."
)
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def sample_indices(count: int, num_frames: int) -> list[int]:
    """`num_frames` frame indices spread evenly over a clip of `count` frames (the middle of each segment)."""
    return sorted({int((i + 0.5) * count / num_frames) for i in range(min(num_frames, count))})


def read_frames(path: Path, num_frames: int) -> list:
    """A few RGB frames of a video file or of a folder of images, as PIL images."""
    from PIL import Image

    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{path}: no frame images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return [Image.open(files[i]).convert("RGB") for i in sample_indices(len(files), num_frames)]
    try:
        import av
    except ImportError:
        raise SystemExit(
            f"{path}: reading video files needs PyAV (pip install av), or pass folders of frames"
        ) from None
    with av.open(str(path)) as container:
        frames = [frame.to_image() for frame in container.decode(video=0)]
    if not frames:
        raise ValueError(f"{path}: no video frames")
    return [frames[i] for i in sample_indices(len(frames), num_frames)]


def clips(root: Path, id_pattern: str) -> list[tuple[str, Path]]:
    """(sample id, path) of every video file or frame folder under `root`."""
    found = []
    for path in sorted(root.iterdir()):
        if path.is_dir() or path.suffix.lower() in VIDEO_SUFFIXES:
            name = path.stem if path.is_file() else path.name
            found.append((re.match(id_pattern, name).group(1), path))
    return found


def describe(model, processor, frames: list, prompt: str, max_new_tokens: int) -> str:
    messages = [
        {
            "role": "user",
            "content": [*({"type": "image", "image": f} for f in frames), {"type": "text", "text": prompt}],
        }
    ]
    inputs = processor.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    ).to(model.device)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    new_tokens = output[0, inputs["input_ids"].shape[1] :]
    return " ".join(processor.decode(new_tokens, skip_special_tokens=True).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="Qwen/Qwen3-VL-8B-Instruct", help="an image-text-to-text model")
    parser.add_argument("--videos", required=True, help="folder of video files or of frame folders")
    parser.add_argument("--output", required=True, help="JSON lines file to write (appended to)")
    parser.add_argument("--num_frames", type=int, default=8)
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--max_new_tokens", type=int, default=64)
    parser.add_argument("--id_pattern", default=r"^(.*?)(?:_rgb)?$", help="regex whose group 1 is the sample id")
    args = parser.parse_args()

    output = Path(args.output)
    done = set()
    if output.exists():
        done = {json.loads(line)["sample_id"] for line in output.read_text().splitlines() if line.strip()}
    todo = [(sample_id, path) for sample_id, path in clips(Path(args.videos), args.id_pattern) if sample_id not in done]
    print(f"{len(todo)} clips to describe ({len(done)} already in {output})")
    if not todo:
        return
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    processor = AutoProcessor.from_pretrained(args.model)
    model = AutoModelForImageTextToText.from_pretrained(args.model, dtype=dtype).to(device).eval()
    with open(output, "a", encoding="utf-8") as f:
        for index, (sample_id, path) in enumerate(todo, start=1):
            try:
                frames = read_frames(path, args.num_frames)
            except (OSError, ValueError) as err:
                print(f"skipped {path}: {err}")
                continue
            text = describe(model, processor, frames, args.prompt, args.max_new_tokens)
            f.write(json.dumps({"sample_id": sample_id, "description": text}) + "\n")
            f.flush()
            print(f"[{index}/{len(todo)}] {sample_id}: {text[:100]}")


if __name__ == "__main__":
    main()
