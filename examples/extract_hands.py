"""Extract hand keypoints from RGB videos for BHaRNet's hand stream (section III-F: MediaPipe hands).

For every video under `--videos`, a hand-keypoint detector runs on every frame, and `<output>/<sample_id>.npy`
gets the sample's hands, float32, one entry per video frame -- the files the NTU loader joins by sample id
(``load_skeleton_dataset("ntu60", data_dir=..., hands_dir=<output>)``):

- (T, 2, 21, 3): the left and the right hand in each frame (21 MediaPipe keypoints; x, y in pixels of the frame,
  z MediaPipe's depth relative to the wrist, in the scale of x). When a frame holds several hands of one side
  (two persons), the one nearest that side's previous hand is kept. A hand not detected in a frame is all zero
  there (the library interpolates such gaps and flags them: `skeleton_models.hands.hands_to_clip`).
- with `--bodies`: (T, M, 2, 21, 3), every detected hand given to the person whose wrist of the same side is
  nearest (`skeleton_models.hands.assign_hands_to_persons`). `--bodies` holds `<sample_id>.npy` body keypoints
  (T, M, V, >=2) of the same frames **in pixels of the same video** (layout `--body_layout`), e.g. NTU's colorX,
  colorY joint coordinates or a 2-D pose estimator's output.

A video is a video file (``S001C001P001R001A001_rgb.avi``; needs PyAV: ``pip install av``), a folder of frame images
(``S001C001P001R001A001/000001.jpg``, ...; needs Pillow) or a ``.npy`` array of RGB frames (T, H, W, 3) uint8. The
sample id is the file or folder name without the NTU ``_rgb`` suffix (`--id_pattern`). Samples already written are
skipped, so an interrupted run continues; samples that fail are listed with the reason on stdout and in
`<output>/extract_report.json`.

    python examples/extract_hands.py --videos /data/nturgbd_rgb --output /data/ntu_hands

The detector is pluggable: any callable ``frame (H, W, 3) uint8 RGB -> [(handedness, keypoints (21, 3)), ...]``
with handedness ``"left"`` / ``"right"`` (the person's own hand) and keypoints in pixels. `--detector mediapipe`
(the default) builds MediaPipe Hands (``pip install mediapipe``): the legacy solution, whose model ships with the
package, or the HandLandmarker task with `--mediapipe_model hand_landmarker.task`. MediaPipe labels handedness for
mirrored (selfie) images; for ordinary footage such as NTU's its labels are swapped back unless `--mirrored` is
given -- check one sample, as the convention has changed between MediaPipe releases. `--detector
package.module:factory` uses any other model: ``factory()`` returns a detector; it is called once per video.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from skeleton_models.data.video import read_frames, save_npy_atomic, video_sources
from skeleton_models.hands import LEFT, RIGHT, assign_hands_to_persons

Detection = tuple[str, np.ndarray]
Detector = Callable[[np.ndarray], list[Detection]]
SIDES = {"left": LEFT, "right": RIGHT}
REPORT_NAME = "extract_report.json"


# -- detections -> per-sample arrays -------------------------------------------------------------------------------
def detect(frames, detector: Detector) -> tuple[np.ndarray, np.ndarray]:
    """Run a detector on every frame: ``(hands (T, H, 21, 3) float32, handedness (T, H) int64)`` with H the most
    hands in one frame (at least 1); handedness is `LEFT`, `RIGHT` or -1 for an empty slot."""
    per_frame = []
    for t, frame in enumerate(frames):
        found = []
        for side, keypoints in detector(frame):
            keypoints = np.asarray(keypoints, dtype=np.float32)
            if side not in SIDES or keypoints.shape != (21, 3) or not np.isfinite(keypoints).all():
                raise ValueError(
                    f"frame {t}: the detector must return (handedness 'left' or 'right', finite (21, 3) keypoints), "
                    f"got ({side!r}, array of shape {keypoints.shape})"
                )
            found.append((SIDES[side], keypoints))
        per_frame.append(found)
    if not per_frame:
        raise ValueError("no frames")
    slots = max(1, max(len(found) for found in per_frame))
    hands = np.zeros((len(per_frame), slots, 21, 3), dtype=np.float32)
    handedness = np.full((len(per_frame), slots), -1, dtype=np.int64)
    for t, found in enumerate(per_frame):
        for k, (side, keypoints) in enumerate(found):
            hands[t, k], handedness[t, k] = keypoints, side
    return hands, handedness


def hands_by_side(hands: np.ndarray, handedness: np.ndarray) -> np.ndarray:
    """(T, H, 21, 3) detections -> (T, 2, 21, 3) left and right hand per frame. Of several hands of one side in a
    frame, the one whose wrist is nearest that side's last kept wrist is kept (the first while there is none)."""
    out = np.zeros((len(hands), 2, 21, 3), dtype=np.float32)
    last = [None, None]
    for t in range(len(hands)):
        for side in (LEFT, RIGHT):
            candidates = np.flatnonzero(handedness[t] == side)
            if len(candidates) == 0:
                continue
            pick = candidates[0]
            if last[side] is not None and len(candidates) > 1:
                distance = np.linalg.norm(hands[t, candidates, 0, :2] - last[side], axis=-1)
                pick = candidates[int(np.argmin(distance))]
            out[t, side] = hands[t, pick]
            last[side] = hands[t, pick, 0, :2]
    return out


def extract_sample(
    path: Path,
    detector: Detector,
    bodies: np.ndarray | None = None,
    body_layout: str = "ntu25",
    use_handedness: bool = True,
    max_distance: float | None = None,
) -> np.ndarray:
    """The hands of one video: (T, 2, 21, 3), or (T, M, 2, 21, 3) assigned to the M persons of `bodies`
    (T, M, V, >=2), body keypoints of the same frames in pixels."""
    hands, handedness = detect(read_frames(path), detector)
    if bodies is None:
        return hands_by_side(hands, handedness)
    if len(bodies) != len(hands):
        raise ValueError(f"the body keypoints have {len(bodies)} frames, the video {len(hands)}")
    assigned = assign_hands_to_persons(
        hands,
        handedness,
        bodies,
        layout=body_layout,
        coordinate_dims=2,
        use_handedness=use_handedness,
        max_distance=max_distance,
    )
    return assigned.hands


def extract_folder(
    videos: Path,
    output: Path,
    make_detector: Callable[[], Detector],
    bodies_dir: Path | None = None,
    body_layout: str = "ntu25",
    use_handedness: bool = True,
    max_distance: float | None = None,
    id_pattern: str = r"^(.*?)(?:_rgb)?$",
    overwrite: bool = False,
) -> dict:
    """Write ``<output>/<sample_id>.npy`` for every video under `videos` (see the module docstring).

    Returns (and writes to ``<output>/extract_report.json``) ``{"written": [ids], "existing": [ids], "skipped":
    [{"sample_id", "path", "reason"}]}``.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    report = {"written": [], "existing": [], "skipped": []}
    sources = video_sources(Path(videos), id_pattern)
    for index, (sample_id, path) in enumerate(sources, start=1):
        target = output / f"{sample_id}.npy"
        if target.exists() and not overwrite:
            report["existing"].append(sample_id)
            continue
        detector = make_detector()
        try:
            bodies = None
            if bodies_dir is not None:
                body_file = Path(bodies_dir) / f"{sample_id}.npy"
                if not body_file.is_file():
                    raise ValueError(f"no body keypoints {body_file}")
                bodies = np.load(body_file, allow_pickle=False)
            hands = extract_sample(path, detector, bodies, body_layout, use_handedness, max_distance)
        except (OSError, ValueError) as err:
            report["skipped"].append({"sample_id": sample_id, "path": str(path), "reason": str(err)})
            print(f"skipped {path}: {err}")
            continue
        finally:
            close = getattr(detector, "close", None)
            if close is not None:
                close()
        save_npy_atomic(target, hands.astype(np.float32))  # complete or absent: an interrupted run can continue
        report["written"].append(sample_id)
        print(f"[{index}/{len(sources)}] {sample_id}: {hands.shape[0]} frames, hands {tuple(hands.shape)}")
    (output / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    print(
        f"{len(report['written'])} written, {len(report['existing'])} already there, "
        f"{len(report['skipped'])} skipped (see {output / REPORT_NAME})"
    )
    return report


# -- detectors -----------------------------------------------------------------------------------------------------
def mediapipe_detector(
    max_num_hands: int = 2, min_confidence: float = 0.5, mirrored: bool = False, model: str | None = None
) -> Detector:
    """MediaPipe Hands as a detector (tracking across the frames of one video: build one per video).

    Keypoints are returned in pixels: x * width, y * height, z * width (MediaPipe's z is relative to the wrist, in
    roughly the scale of x). Handedness is MediaPipe's label, swapped unless `mirrored` (MediaPipe assumes mirrored
    selfie images). `model`: a ``hand_landmarker.task`` file for the HandLandmarker task; the legacy
    ``mediapipe.solutions.hands`` (model included in the package) when omitted.
    """
    try:
        import mediapipe as mp  # optional dependency, only for this detector
    except ImportError:
        raise SystemExit("the MediaPipe detector needs mediapipe (pip install mediapipe), or pass --detector") from None
    swap = {"left": "right", "right": "left"}

    def side_of(label: str) -> str:
        label = label.lower()
        return label if mirrored else swap[label]

    def to_pixels(landmarks, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        return np.array([[p.x * width, p.y * height, p.z * width] for p in landmarks], dtype=np.float32)

    if model is not None:
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import HandLandmarker, HandLandmarkerOptions, RunningMode

        options = HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=RunningMode.VIDEO,
            num_hands=max_num_hands,
            min_hand_detection_confidence=min_confidence,
            min_hand_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        landmarker = HandLandmarker.create_from_options(options)
        clock = iter(range(0, 2**62, 33))  # strictly increasing timestamps (ms), ~30 fps

        def detect_task(frame: np.ndarray) -> list[Detection]:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
            result = landmarker.detect_for_video(image, next(clock))
            return [
                (side_of(categories[0].category_name), to_pixels(landmarks, frame))
                for landmarks, categories in zip(result.hand_landmarks, result.handedness)
            ]

        detect_task.close = landmarker.close
        return detect_task

    if not hasattr(mp, "solutions"):
        raise SystemExit(
            f"mediapipe {mp.__version__} has no legacy solutions: pass --mediapipe_model hand_landmarker.task"
        )
    solution = mp.solutions.hands.Hands(
        static_image_mode=False,
        max_num_hands=max_num_hands,
        min_detection_confidence=min_confidence,
        min_tracking_confidence=min_confidence,
    )

    def detect_legacy(frame: np.ndarray) -> list[Detection]:
        result = solution.process(np.ascontiguousarray(frame))
        if not result.multi_hand_landmarks:
            return []
        return [
            (side_of(handedness.classification[0].label), to_pixels(landmarks.landmark, frame))
            for landmarks, handedness in zip(result.multi_hand_landmarks, result.multi_handedness)
        ]

    detect_legacy.close = solution.close
    return detect_legacy


def load_factory(spec: str) -> Callable[[], Detector]:
    """``"package.module:function"`` -> the function (a detector factory taking no arguments)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"--detector must be 'mediapipe' or 'package.module:factory', got {spec!r}")
    return getattr(importlib.import_module(module_name), attribute)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", required=True, help="folder of video files, frame folders or .npy frame arrays")
    parser.add_argument("--output", required=True, help="folder for the <sample_id>.npy hand arrays")
    parser.add_argument("--detector", default="mediapipe", help="'mediapipe' or 'package.module:factory'")
    parser.add_argument("--mediapipe_model", default=None, help="hand_landmarker.task (else the legacy solution)")
    parser.add_argument("--max_num_hands", type=int, default=2, help="MediaPipe: hands per frame (4 for 2 persons)")
    parser.add_argument("--min_confidence", type=float, default=0.5)
    parser.add_argument("--mirrored", action="store_true", help="the videos are mirrored (selfie) images")
    parser.add_argument("--bodies", default=None, help="folder of <sample_id>.npy body keypoints (T, M, V, >=2), px")
    parser.add_argument("--body_layout", default="ntu25", help="layout of the body keypoints")
    parser.add_argument("--ignore_handedness", action="store_true", help="assign hands to either wrist")
    parser.add_argument("--max_distance", type=float, default=None, help="px; farther hands go to no person")
    parser.add_argument("--id_pattern", default=r"^(.*?)(?:_rgb)?$", help="regex whose group 1 is the sample id")
    parser.add_argument("--overwrite", action="store_true", help="extract samples already written again")
    args = parser.parse_args(argv)

    if args.detector == "mediapipe":

        def make_detector() -> Detector:
            return mediapipe_detector(args.max_num_hands, args.min_confidence, args.mirrored, args.mediapipe_model)

    else:
        make_detector = load_factory(args.detector)
    return extract_folder(
        Path(args.videos),
        Path(args.output),
        make_detector,
        bodies_dir=None if args.bodies is None else Path(args.bodies),
        body_layout=args.body_layout,
        use_handedness=not args.ignore_handedness,
        max_distance=args.max_distance,
        id_pattern=args.id_pattern,
        overwrite=args.overwrite,
    )


if __name__ == "__main__":
    main()
