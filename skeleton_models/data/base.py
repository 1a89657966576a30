"""The base class of every skeleton dataset builder, and the spec a built dataset carries."""

from __future__ import annotations

import json
import re
import tempfile

import datasets

_SPEC = re.compile(r"^skeleton_models: (\{.*\})$", flags=re.M)


class SkeletonDatasetBuilder(datasets.GeneratorBasedBuilder):
    """A `GeneratorBasedBuilder` whose datasets say which skeleton layout they hold.

    Subclasses set `LAYOUT` and `COORDINATE_DIMS` (or override `skeleton_spec`). `load_skeleton_dataset` sets
    `report_dir`, where generators record skipped files with `SkipRecorder`.
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
        spec = json.dumps(self.skeleton_spec(), sort_keys=True)
        return datasets.DatasetInfo(description=f"{description.strip()}\n\nskeleton_models: {spec}", features=features)


def get_skeleton_spec(dataset) -> dict:
    """``{"layout": ..., "coordinate_dims": ...}`` of a dataset (or DatasetDict) built by this library."""
    if isinstance(dataset, datasets.DatasetDict):
        dataset = next(iter(dataset.values()))
    match = _SPEC.search(dataset.info.description or "")
    if match is None:
        raise ValueError(
            "this dataset does not say which skeleton layout it holds: it was not built by "
            "skeleton_models.data.load_skeleton_dataset; pass layout= and coordinate_dims= yourself"
        )
    return json.loads(match.group(1))
