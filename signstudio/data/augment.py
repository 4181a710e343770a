"""Augmenting landmark clips for sign recognition: geometry, speed, dropped frames, missing points.

Works on the ``(T, P, 3)`` points and ``(T, P)`` found-masks of
:func:`signstudio.pose.landmarks.select_landmarks` (pixels), before normalisation. Every random
draw comes from the ``numpy.random.Generator`` passed in, so a seeded run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signstudio.pose.landmarks import NUM_BODY, NUM_HAND, mirror, shoulder_centre, shoulder_width


@dataclass
class LandmarkAugmentation:
    """Random changes a signer, a camera or MediaPipe could have made; each ``*_prob`` is the
    chance of that change per clip (``drop_frames`` and ``drop_points`` are per frame / point).

    Attributes:
        mirror_prob: see the clip in a mirror (the other hand signs).
        rotation_degrees: in-plane rotation, uniform in ``±rotation_degrees``.
        scale: independent x and y scale, uniform in ``1 ± scale`` (a different aspect or lens).
        shear: horizontal shear, uniform in ``±shear``.
        speed: play ``1 ± speed`` times as fast (frames resampled).
        drop_frames: chance that a frame is lost.
        hand_dropout_prob: chance that one hand goes missing for a run of frames.
        drop_points: chance that a single point is missing.
        jitter: Gaussian noise on every point, in shoulder widths.
        crop: keep a random ``crop``-to-1 fraction of the clip's length.
    """

    mirror_prob: float = 0.5
    rotation_degrees: float = 15.0
    scale: float = 0.15
    shear: float = 0.15
    speed: float = 0.25
    drop_frames: float = 0.1
    hand_dropout_prob: float = 0.2
    drop_points: float = 0.02
    jitter: float = 0.01
    crop: float = 0.8

    def __call__(self, points: np.ndarray, found: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A changed copy of ``(points (T, P, 3), found (T, P))`` (at least one frame)."""
        pts, fnd = points.astype(np.float32, copy=True), found.copy()
        if rng.random() < self.mirror_prob:
            pts, fnd = mirror(pts, fnd)
        pts = self._geometry(pts, fnd, rng)
        t = len(pts)
        # speed and crop: which source frames make the new clip
        length = max(1, int(round(t * rng.uniform(self.crop, 1.0))))
        start = int(rng.integers(0, t - length + 1))
        factor = rng.uniform(1 - self.speed, 1 + self.speed)
        n = max(1, int(round(length / factor)))
        idx = start + np.minimum((np.arange(n) * factor).astype(int), length - 1)
        keep = rng.random(n) >= self.drop_frames
        if not keep.any():
            keep[int(rng.integers(0, n))] = True
        idx = idx[keep]
        pts, fnd = pts[idx], fnd[idx]
        # missing landmarks
        if rng.random() < self.hand_dropout_prob:
            side = int(rng.integers(0, 2))
            a = int(rng.integers(0, len(pts)))
            b = min(len(pts), a + int(rng.integers(1, max(2, len(pts) // 2 + 1))))
            s = NUM_BODY + side * NUM_HAND
            fnd[a:b, s:s + NUM_HAND] = False
        if self.drop_points > 0:
            fnd &= rng.random(fnd.shape) >= self.drop_points
        pts[~fnd] = 0.0
        return pts, fnd

    def _geometry(self, pts: np.ndarray, fnd: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        centre = shoulder_centre(pts, fnd)
        width = shoulder_width(pts, fnd)
        a = np.deg2rad(rng.uniform(-self.rotation_degrees, self.rotation_degrees))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        sx, sy = 1 + rng.uniform(-self.scale, self.scale, size=2)
        shear = np.array([[1.0, rng.uniform(-self.shear, self.shear)], [0.0, 1.0]])
        m = rot @ shear @ np.diag([sx, sy])
        xy = (pts[..., :2] - centre) @ m.T + centre
        xy = xy + rng.normal(0.0, self.jitter * width, size=xy.shape)
        pts[..., :2] = np.where(fnd[..., None], xy, 0.0)
        return pts
