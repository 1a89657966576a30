"""The base class of every skeleton dataset builder."""

from __future__ import annotations

import tempfile

import datasets

from ..processing_skeleton import get_skeleton_spec, skeleton_feature_id

__all__ = ["SkeletonDatasetBuilder", "get_skeleton_spec"]


class SkeletonDatasetBuilder(datasets.GeneratorBasedBuilder):
    """A `GeneratorBasedBuilder` whose datasets say which skeleton layout each skeleton column holds.

    Subclasses set `LAYOUT` and `COORDINATE_DIMS` (or override `skeleton_spec`) for the ``skeleton`` column, and
    `column_specs` for further skeleton columns (e.g. ``hands``). Each spec is kept as the ``id`` of its column's
    feature, where it survives Parquet and the Hub (`get_skeleton_spec` and `SkeletonProcessor.for_dataset` read it).
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
        """Layout and coordinate channels of the ``skeleton`` column."""
        return {"layout": self.LAYOUT, "coordinate_dims": self.COORDINATE_DIMS}

    def column_specs(self) -> dict[str, dict]:
        """Layout and coordinate channels of every skeleton column."""
        return {"skeleton": self.skeleton_spec()}

    def _skeleton_info(self, features: datasets.Features, description: str) -> datasets.DatasetInfo:
        features = features.copy()
        for column, spec in self.column_specs().items():
            feature = features[column]
            features[column] = type(feature)(shape=feature.shape, dtype=feature.dtype, id=skeleton_feature_id(**spec))
        return datasets.DatasetInfo(description=description.strip(), features=features)
