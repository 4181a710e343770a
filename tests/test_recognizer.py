"""The landmark recogniser's parts on real WLASL100 landmarks: points by name, handedness, frame
rates by time stamp, augmentation, built sequences, CTC decoding and the confidence threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from signstudio.data.augment import LandmarkAugmentation
from signstudio.data.sequences import build_sequence, fixed_sequences
from signstudio.pose.landmarks import (NUM_BODY, NUM_FEATURES, NUM_POINTS, canonical_handedness, clip_landmarks,
                                       landmark_features, mirror, resample_frames, select_landmarks)
from signstudio.runtime.recognize import accuracy, choose_threshold, ctc_runs, ctc_segments


@pytest.fixture(scope="module")
def poses():
    from signstudio.paths import data_dir
    from signstudio.pose.io import read_pose

    files = sorted((data_dir() / "wlasl100" / "poses").glob("*.pose"))[:12]
    if not files:
        pytest.skip("the WLASL100 test landmarks are not in the data folder")
    return [read_pose(f) for f in files]


def _full_holistic(pose):
    """The same landmarks in the full 576-point Holistic layout a webcam gives (face empty)."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody

    from signstudio.capture.holistic import holistic_header

    header = holistic_header(pose.header.dimensions.width, pose.header.dimensions.height)
    full = np.zeros((len(pose.body.data), 1, header.total_points(), 3), dtype=np.float32)
    conf = np.zeros(full.shape[:-1], dtype=np.float32)
    data, c = np.ma.getdata(pose.body.data), np.ma.getdata(pose.body.confidence)
    for comp in pose.header.components:
        for name in comp.points:
            src = pose.header.get_point_index(comp.name, name)
            dst = header.get_point_index(comp.name, name)
            full[:, :, dst], conf[:, :, dst] = data[:, :, src], c[:, :, src]
    return Pose(header, NumPyPoseBody(pose.body.fps, full, conf))


def test_points_are_found_by_name_in_any_layout(poses):
    pose = poses[0]
    a_pts, a_found = select_landmarks(pose)
    b_pts, b_found = select_landmarks(_full_holistic(pose))
    assert a_pts.shape == (len(pose.body.data), NUM_POINTS, 3)
    np.testing.assert_array_equal(a_found, b_found)
    np.testing.assert_allclose(a_pts, b_pts)
    np.testing.assert_allclose(landmark_features(a_pts, a_found), landmark_features(b_pts, b_found), atol=1e-6)


def test_a_mirrored_clip_gives_exactly_the_same_features(poses):
    for pose in poses:
        points, found, _ = clip_landmarks(pose, 25.0)
        flipped = canonical_handedness(*mirror(points, found))
        np.testing.assert_allclose(landmark_features(points, found), landmark_features(*flipped[:2]), atol=1e-5)


def test_features_do_not_depend_on_where_the_signer_stands_or_how_big(poses):
    points, found, _ = clip_landmarks(poses[1], 25.0)
    moved = points.copy()
    moved[..., :2] = moved[..., :2] * 1.7 + np.array([40.0, -25.0])
    moved[..., 2] *= 1.7
    moved[~found] = 0.0
    np.testing.assert_allclose(landmark_features(points, found), landmark_features(moved, found), atol=1e-4)
    assert landmark_features(points, found).shape[1] == NUM_FEATURES


def test_a_recording_claiming_1000_fps_is_read_at_the_models_rate(poses):
    points, found = select_landmarks(poses[2])
    # each real frame (25 fps) stored 40 times, as a phone's "1000 fps" recording does
    rep_p, rep_f = np.repeat(points, 40, axis=0), np.repeat(found, 40, axis=0)
    got_p, got_f, idx = resample_frames(rep_p, rep_f, 1000.0, 25.0)
    assert abs(len(got_p) - len(points)) <= 1
    np.testing.assert_array_equal(got_p[: len(points) - 1], points[: len(got_p)][: len(points) - 1])


def test_augmentation_is_reproducible_and_keeps_the_layout(poses):
    points, found, _ = clip_landmarks(poses[3], 25.0)
    aug = LandmarkAugmentation()
    a = aug(points, found, np.random.default_rng(7))
    b = aug(points, found, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].shape[1:] == (NUM_POINTS, 3) and a[1].shape == a[0].shape[:2] and len(a[0]) >= 1
    assert not np.isnan(landmark_features(*a)).any()


def test_built_sequences_keep_their_signs_in_order(poses):
    clips = [(*clip_landmarks(p, 25.0)[:2], i) for i, p in enumerate(poses)]
    points, found, labels, spans = build_sequence(clips, np.random.default_rng(3), count=4)
    assert len(labels) == 4 and len(spans) == 4
    assert all(a < b <= c for (a, b), (c, _) in zip(spans, spans[1:])) and spans[-1][1] <= len(points)
    lead = range(0, spans[0][0])  # before the first sign the signer is at rest: no hands
    assert not found[list(lead), NUM_BODY:].any()
    again = fixed_sequences(clips, 5, seed=1)
    assert [s[2] for s in again] == [s[2] for s in fixed_sequences(clips, 5, seed=1)]


def test_ctc_runs_and_segments():
    blank, a, b = 0, 1, 2
    best = [blank, a, a, blank, blank, b, b, b, blank, a]
    lp = np.full((len(best), 4), -10.0)
    lp[np.arange(len(best)), best] = 0.0
    assert ctc_runs(lp) == [(0, 1, 3), (1, 5, 8), (0, 9, 10)]
    segs = ctc_segments(lp, ["ONE", "TWO", "THREE"], threshold=0.5)
    assert [s.gloss for s in segs] == ["ONE", "TWO", "ONE"] and segs[1].start == 5 and segs[1].end == 8
    assert segs[0].alternatives[0][0] == "ONE"
    unsure = ctc_segments(np.log(np.full((3, 4), 0.25)), ["ONE", "TWO", "THREE"], threshold=0.5)
    assert unsure == [] or all(s.gloss is None for s in unsure)


def test_threshold_and_accuracy():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.2, 0.8]])
    labels = np.array([0, 1, 1, 1])
    assert accuracy(probs, labels)["top1"] == 50.0
    t = choose_threshold(probs, labels)
    shown = probs.max(1) >= t
    assert shown[0] and shown[3] and not shown[1] and not shown[2]  # the two wrong, unsure ones are hidden


def test_a_stream_without_hands_gives_no_caption(poses):
    """A gloss needs a hand in view: an empty room (only the body found) is never captioned, even
    by a model whose CTC head always says a gloss; the same frames with their hands are."""
    import torch

    from signstudio.models.recognizer import RecognizerConfig, SignRecognizer
    from signstudio.runtime.checkpoint import LoadedModel
    from signstudio.runtime.recognize import FEATURE_KIND
    from signstudio.runtime.stream import StreamingRecognizer, recognize_stream

    torch.manual_seed(0)
    model = SignRecognizer(RecognizerConfig(num_classes=2, d_model=16, num_heads=2, encoder_layers=1, ff_dim=16,
                                            ctc=True))
    with torch.no_grad():  # every frame says the first gloss, sure of it
        model.ctc_head.weight.zero_()
        model.ctc_head.bias.copy_(torch.tensor([0.0, 20.0, 0.0]))
    loaded = LoadedModel("always", "recognizer", model.eval(), None, None,
                         {"kind": FEATURE_KIND, "fps": 25.0, "classes": ["HELLO", "BYE"]}, {"threshold": 0.5},
                         {}, Path("always.pt"))
    points, found = select_landmarks(poses[0])
    frames = [(points[i], found[i], i / 25.0) for i in range(len(points))]
    stream = StreamingRecognizer(loaded)
    with_hands = list(recognize_stream(stream, frames))
    assert [c.gloss for c in with_hands] == ["HELLO"]
    no_hands = found.copy()
    no_hands[:, NUM_BODY:] = False
    empty_room = [(points[i], no_hands[i], i / 25.0) for i in range(len(points))]
    assert list(recognize_stream(stream, empty_room)) == []
    assert not stream.hands_recently
