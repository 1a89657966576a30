"""An architecture added in a test, touching only its own files (tests/dummy_architecture.py and this one): the
common model tests run on it, remote code included, while it is registered for the duration of the class."""

from skeleton_models import ARCHITECTURES

from .dummy_architecture import DUMMY, DummyModel
from .model_tester import ModelTesterMixin


class TestDummyArchitecture(ModelTesterMixin):
    architecture = DUMMY

    def expected_output_shapes(self, config, model_class):
        n, t, h = self.batch_size, self.frames, config.hidden_size
        if model_class is DummyModel:
            return {"last_hidden_state": (n, h, t, 25, 2), "pooler_output": (n, h)}
        return {"logits": (n, config.num_labels), "pooler_output": (n, h)}

    def test_registered_only_while_its_tests_run(self):
        assert ARCHITECTURES["dummy-skeleton"] is DUMMY


def test_not_registered_outside_its_tests():
    assert "dummy-skeleton" not in ARCHITECTURES
