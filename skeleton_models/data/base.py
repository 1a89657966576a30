"""The base class of every skeleton dataset builder."""

from __future__ import annotations

import tempfile

import datasets

from ..processing_skeleton import format_skeleton_spec, get_skeleton_spec

__all__ = ["SkeletonDatasetBuilder", "get_skeleton_spec"]


class SkeletonDatasetBuilder(datasets.GeneratorBasedBuilder):
    """A `GeneratorBasedBuilder` whose datasets say which skeleton layout they hold.

    Subclasses set `LAYOUT` and `COORDINATE_DIMS` (or override `skeleton_spec`); the spec is written into the
    dataset's description, where `get_skeleton_spec` and `SkeletonProcessor.for_dataset` read it.
    `load_skeleton_dataset` sets `report_dir`, where generators record skipped files with `SkipRecorder`.
    """

    LAYOUT: str = "ntu25"
    COORDINATE_DIMS: int = 3
    DEFAULT_WRITER_BATCH_SIZE = 200

    @property
    def report_dir(self) -> str:
        if getattr(self, "_report_dir", None) is None:
            self._report_dir = tempfile.mkdtemp(prefix="skeleton_models_report_")
        return self._report_dir

    @report_dir.setter
    def report_dir(self, value: str) -> None:
        self._report_dir = value

    def skeleton_spec(self) -> dict:
        return {"layout": self.LAYOUT, "coordinate_dims": self.COORDINATE_DIMS}

    def _skeleton_info(self, features: datasets.Features, description: str) -> datasets.DatasetInfo:
        spec = format_skeleton_spec(**self.skeleton_spec())
        return datasets.DatasetInfo(description=f"{description.strip()}\n\n{spec}", features=features)
