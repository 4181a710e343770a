"""The shared hand/nose feature function, on BOSTON-104 tracks and real MediaPipe .pose files."""

import numpy as np
import pytest

from signstudio.data.boston104 import load_boston104
from signstudio.errors import InputError, NoSignerError
from signstudio.paths import data_dir
from signstudio.pose.features import NUM_FEATURES, fill_missing, resample, track_features, tracks_from_holistic
from signstudio.pose.io import read_pose

DATA = data_dir()
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA} (set SIGNSTUDIO_DATA)")


@needs_data
def test_boston104_has_the_official_splits():
    train, test = load_boston104("train"), load_boston104("test")
    assert (len(train), len(test)) == (161, 40)
    assert {s.speaker for s in train} == {"woman-1", "woman-2", "man-1"}
    assert train[0].glosses == ("JOHN", "WRITE", "HOMEWORK")
    assert all(s.tracks.shape[1:] == (3, 2) and len(s.tracks) >= 40 for s in train + test)
    vocab = {g for s in train for g in s.glosses}
    assert 100 <= len(vocab) <= 113


@needs_data
def test_features_do_not_depend_on_signer_position_or_size():
    tracks = load_boston104("test")[0].tracks
    base = track_features(tracks, 30.0)
    assert base.shape == (len(tracks), NUM_FEATURES) and base.dtype == np.float32
    moved = track_features(tracks * 2.5 + np.array([300.0, -40.0]), 30.0)
    np.testing.assert_allclose(base, moved, atol=1e-5)


@needs_data
def test_boston_right_hand_is_the_signers_dominant_hand():
    # Left/right mean the signer's hands in BOSTON as in MediaPipe: the right hand moves most and
    # appears on the image's left (smaller x than the nose) for a signer facing the camera.
    train = load_boston104("train")
    motion = np.sum([np.abs(np.diff(s.tracks, axis=0)).sum(axis=(0, 2)) for s in train], axis=0)
    assert motion[1] > motion[0]
    mean = np.concatenate([s.tracks for s in train]).mean(axis=0)
    assert mean[1, 0] < mean[2, 0] < mean[0, 0]


@needs_data
def test_mediapipe_pose_files_give_the_same_kind_of_features():
    boston = np.concatenate([track_features(s.tracks, 30.0) for s in load_boston104("train")])
    for name in ("asl/standard_landmarks/colin-1-HOUSE.pose", "mediapipe.pose"):
        pose = read_pose(DATA / "poses" / name)
        tracks = tracks_from_holistic(pose)
        assert not np.isnan(tracks[:, 2]).all()
        feats = track_features(tracks, float(pose.body.fps))
        assert feats.shape[1] == NUM_FEATURES and np.isfinite(feats).all()
        # Same normalisation: hand positions relative to the nose, in units of the signer's reach.
        assert np.abs(feats[:, :4]).max() < 3.0
        assert abs(np.percentile(feats[:, 10:12], 90) - np.percentile(boston[:, 10:12], 90)) < 0.3


def test_resample_changes_the_frame_count_by_the_rate():
    x = np.arange(25, dtype=float)[:, None]  # 1 s at 24 fps (25 frames, 24 intervals)
    y = resample(x, 24.0, 30.0)
    assert len(y) == 31 and y[0, 0] == 0 and y[-1, 0] == 24


def test_fill_missing_interpolates_and_reports_absent_points():
    t = np.full((5, 3, 2), np.nan)
    t[0] = t[4] = [[0, 0], [10, 10], [5, 5]]
    t[4, 0] = [4, 8]
    filled = fill_missing(t)
    np.testing.assert_allclose(filled[2, 0], [2, 4])
    t[:, 2] = np.nan
    with pytest.raises(NoSignerError, match="nobody"):
        fill_missing(t)
    with pytest.raises(InputError, match="shape"):
        track_features(np.zeros((4, 2, 2)), 30.0)
