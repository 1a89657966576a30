import os
import subprocess
import sys

import numpy as np
import pytest

from skeleton_models.data import get_class_descriptions, load_skeleton_dataset, synthetic
from skeleton_models.data import synthetic as motion
from skeleton_models.skeletons import get_layout

NTU = get_layout("ntu25")


def test_class_structure():
    groups = synthetic.CLASS_GROUPS
    assert len(synthetic.CLASS_NAMES) >= 16
    assert len(groups["interaction"]) >= 4 and len(groups["hand_gesture"]) >= 5
    assert all(motion.ACTION_CLASSES[i].persons == 2 for i in groups["interaction"])
    for required in [
        "wave with left hand",
        "wave with right hand",
        "clap",
        "raise both arms",
        "punch",
        "kick with left leg",
        "kick with right leg",
        "squat",
        "jump",
        "bow",
        "turn around",
        "walk in place",
        "hand to mouth",
        "touch head",
        "handshake",
        "push",
        "hug",
        "thumbs up",
        "victory sign",
        "ok sign",
        "fist",
        "open palm",
    ]:
        assert required in synthetic.CLASS_NAMES
    descriptions = get_class_descriptions("synthetic")
    assert len(descriptions) == len(synthetic.CLASS_NAMES)
    assert all(d["label"] and d["description"].endswith(".") and d["label"] != d["description"] for d in descriptions)


def test_dataset_schema_and_splits(synthetic_tiny):
    train, test = synthetic_tiny["train"], synthetic_tiny["test"]
    num_classes = len(synthetic.CLASS_NAMES)
    assert len(train) == len(test) == num_classes * 1 * 1 * 3  # classes x subjects per split x reps x cameras
    assert train.features["label"].names == synthetic.CLASS_NAMES
    assert set(train["subject"]) == {1} and set(test["subject"]) == {2}  # xsub: odd subjects train
    row = train.with_format("numpy")[0]
    t = int(row["num_frames"])
    assert row["skeleton"].shape == (t, 2, 25, 3) and row["skeleton"].dtype == np.float32
    assert row["hands"].shape == (t, 2, 2, 21, 3)
    assert 38 <= t <= 200
    for r in train.with_format("numpy").select(range(0, len(train), 7)):
        second_present = bool(np.abs(r["skeleton"][:, 1]).max() > 0)
        assert second_present == (r["num_persons"] == 2)
        expected = f"S001C{r['camera']:03d}P{r['subject']:03d}R{r['replication']:03d}A{r['label'] + 1:03d}"
        assert r["sample_id"] == expected


def test_xview_splits_by_camera(tmp_path):
    ds = load_skeleton_dataset("synthetic", config="xview", cache_dir=tmp_path, num_subjects=2, num_replications=1)
    assert set(ds["train"]["camera"]) == {2, 3} and set(ds["test"]["camera"]) == {1}
    assert len(ds["train"]) == 2 * len(ds["test"])


def test_pretrain_config_has_its_own_subjects(tmp_path):
    """``pretrain``: one train split of every class x the pre-training subjects (after the evaluation protocols'
    1 .. num_subjects, so none of them is seen in pre-training) x replications x 3 cameras; two-person classes pair
    each pre-training subject with the next of them, not with an evaluation subject."""
    ds = load_skeleton_dataset(
        "synthetic", config="pretrain", cache_dir=tmp_path, num_subjects=4, num_pretrain_subjects=2, num_replications=1
    )
    assert list(ds) == ["train"] and len(ds["train"]) == len(synthetic.CLASS_NAMES) * 2 * 1 * 3
    assert set(ds["train"]["subject"]) == {5, 6} and set(ds["train"]["camera"]) == {1, 2, 3}
    assert len(set(ds["train"]["sample_id"])) == len(ds["train"])
    label = next(i for i, a in enumerate(synthetic.ACTION_CLASSES) if a.persons == 2)
    row = ds["train"].filter(lambda r: r["label"] == label and r["subject"] == 6 and r["camera"] == 2)[0]
    paired = synthetic.generate_example(label, 6, 1, 2, num_subjects=4, seed=0, partner=5)  # 6 -> 5 (wraps)
    np.testing.assert_array_equal(np.asarray(row["skeleton"], dtype=np.float32), paired["skeleton"])
    default = synthetic.generate_example(label, 6, 1, 2, num_subjects=4, seed=0)  # an evaluation subject's body
    assert not np.array_equal(paired["skeleton"], default["skeleton"])


DIGEST_SCRIPT = """
import hashlib, sys
from skeleton_models.data import load_skeleton_dataset
ds = load_skeleton_dataset("synthetic", config="xsub", cache_dir=sys.argv[1], num_subjects=2, num_replications=1,
                           num_proc=int(sys.argv[2]))
digest = hashlib.sha256()
for split in ("train", "test"):
    for row in ds[split].with_format("numpy"):
        digest.update((row["sample_id"] + str(row["description"])).encode())
        for column in ("skeleton", "hands"):
            digest.update(row[column].tobytes())
print(digest.hexdigest())
"""


def test_generation_is_deterministic_and_seeded(tmp_path):
    """Every array of every row (hashed) is the same with 1 or 2 build processes and in fresh interpreters with
    different PYTHONHASHSEEDs."""
    digests = set()
    for num_proc, hash_seed in ((1, "0"), (2, "123"), (1, "random")):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT, str(tmp_path / f"cache-{num_proc}-{hash_seed}"), str(num_proc)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        digests.add(done.stdout.strip().splitlines()[-1])
    assert len(digests) == 1
    one = synthetic.generate_example(3, 1, 1, 2, num_subjects=2, seed=0)
    other_seed = synthetic.generate_example(3, 1, 1, 2, num_subjects=2, seed=1)
    assert not np.array_equal(one["skeleton"][:10], other_seed["skeleton"][:10])


def test_every_clip_has_its_own_description(synthetic_tiny):
    """Per-clip texts (`synthetic.describe`): every class has a writer, every row a description, and the texts of
    one class differ between clips (how it was performed, not just which class)."""
    assert set(motion.describe.CLAUSES) == set(synthetic.CLASS_NAMES)
    rows = synthetic_tiny["train"]
    assert all(d and d.endswith(".") for d in rows["description"])
    texts = {}
    for label in range(len(synthetic.CLASS_NAMES)):
        for subject in range(1, 7):
            for camera in (1, 2, 3):
                text = synthetic.generate_example(label, subject, 1, camera, num_subjects=6, seed=0)["description"]
                texts.setdefault(label, set()).add(text)
    assert all(len(t) >= 10 for t in texts.values())  # 18 recordings of a class: (almost) all different
    again = synthetic.generate_example(4, 2, 1, 3, num_subjects=6, seed=0)["description"]
    assert again == synthetic.generate_example(4, 2, 1, 3, num_subjects=6, seed=0)["description"]
    for name, side in (("wave with left hand", "left"), ("kick with right leg", "right")):
        label = synthetic.CLASS_NAMES.index(name)
        assert all(side in t.split(".")[0] for t in texts[label])


def test_descriptions_say_what_the_skeletons_show():
    """The turning direction and the pushed person's stagger in the text match the generated motion."""
    turn, push = (motion.ACTION_CLASSES[synthetic.CLASS_NAMES.index(n)] for n in ("turn around", "push"))
    left, right = NTU.joint_index("left_shoulder"), NTU.joint_index("right_shoulder")
    base = NTU.joint_index("spine_base")
    ways = set()
    for subject in range(8):
        bodies = [motion.sample_body(np.random.default_rng([0, subject]))] * 2
        p = motion.perform(turn, bodies, np.random.default_rng([1, subject]))
        f = p.facts
        mid = int(round((f["lead_in"] + 1.3 / f["speed"]) * 30))  # halfway through the turn (actions._turn_around)
        across = p.joints[mid, 0, left] - p.joints[mid, 0, right]  # the body's left, world frame (x left, z fwd)
        text = motion.describe_clip(turn, f, 1, np.random.default_rng(subject))
        way = "left" if across[2] < 0 else "right"  # turning left points the body's left backwards (-z)
        assert f"to the {way}" in text
        ways.add(way)
        p = motion.perform(push, bodies, np.random.default_rng([2, subject]))
        moved = np.linalg.norm(p.joints[-1, 1, base, [0, 2]] - p.joints[0, 1, base, [0, 2]])
        stated = int(motion.describe_clip(push, p.facts, 1, np.random.default_rng(0)).split(" cm")[0].split()[-1])
        assert abs(stated - 100 * moved) <= 8
    assert ways == {"left", "right"}


def test_cameras_record_the_same_performance():
    views = [synthetic.generate_example(0, 1, 1, camera, num_subjects=2, seed=0)["skeleton"] for camera in (1, 2, 3)]
    elbow, shoulder = NTU.joint_index("left_elbow"), NTU.joint_index("left_shoulder")

    def bone(x):
        return np.linalg.norm(x[:, 0, elbow] - x[:, 0, shoulder], axis=-1)

    # Same subject, same body: the median upper-arm length agrees across views up to sensor noise.
    assert max(abs(np.median(bone(v)) - np.median(bone(views[0]))) for v in views) < 0.01


def test_hand_gestures_share_one_body_motion():
    """By construction: the same random draws give the same body whatever the gesture; only the hands differ."""
    bodies = [motion.sample_body(np.random.default_rng(0))] * 2
    gestures = [motion.ACTION_CLASSES[i] for i in synthetic.CLASS_GROUPS["hand_gesture"]]
    performances = [motion.perform(g, bodies, np.random.default_rng(42)) for g in gestures]
    for p in performances[1:]:
        np.testing.assert_array_equal(p.joints, performances[0].joints)
        assert not np.allclose(p.hands, performances[0].hands)


def test_kinematics_are_physical():
    rng = np.random.default_rng(0)
    body = motion.sample_body(rng)
    for action in motion.ACTION_CLASSES:
        performance = motion.perform(action, [body, body], np.random.default_rng(1))
        joints = performance.joints[:, 0]  # (T, 25, 3), world, y up
        lengths = np.linalg.norm(joints[:, [c for c, _ in NTU.bones]] - joints[:, [p for _, p in NTU.bones]], axis=-1)
        assert lengths.std(axis=0).max() < 1e-6, action.name  # rigid segments
        feet = joints[:, [14, 15, 18, 19], 1].min(axis=1)
        if action.name != "jump":
            assert np.abs(feet - feet[0]).max() < 1e-6, action.name  # on the floor
        assert (joints[:, NTU.joint_index("head"), 1] > joints[:, NTU.joint_index("spine_base"), 1]).all()


def test_camera_space_follows_kinect_conventions():
    example = synthetic.generate_example(2, 1, 1, camera=1, num_subjects=2, seed=0)  # clap, front camera
    first = example["skeleton"][0, 0]
    left, right = NTU.shoulders
    assert first[left, 0] < first[right, 0]  # the person's left is the sensor's right (-x)
    assert first[NTU.joint_index("head"), 1] > first[NTU.joint_index("right_foot"), 1]  # y up
    assert 2.0 < first[:, 2].mean() < 5.0  # metres from the sensor


@pytest.mark.parametrize(
    "options, message",
    [
        ({"protocol": "xset"}, "protocol"),
        ({"num_subjects": 1}, "num_subjects"),
        ({"config": "pretrain", "num_pretrain_subjects": 1}, "num_pretrain_subjects"),
    ],
)
def test_bad_builder_options(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        load_skeleton_dataset("synthetic", cache_dir=tmp_path, **options)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'ntu61'"):
        load_skeleton_dataset("ntu61")
