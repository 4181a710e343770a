"""The signer renderer (signstudio.pose.draw, no Qt) on real poses, and captioned video export."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from signstudio.errors import InputError  # noqa: E402
from signstudio.paths import data_dir  # noqa: E402
from signstudio.pose.caption import BAND_BACKGROUND, Caption  # noqa: E402
from signstudio.pose.draw import (BACKGROUND, HEAD_FILL, Camera, layout, project,  # noqa: E402
                                  render)
from signstudio.pose.io import read_pose  # noqa: E402
from signstudio.pose.scene import build_scene  # noqa: E402
from signstudio.production.types import Production, Segment  # noqa: E402

SIZE = (512, 512)


def _real(*parts: str):
    path = data_dir().joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def sad_scene():
    """A real recorded ASL sign (SAD: both open hands in front of the face), full Holistic."""
    return build_scene(read_pose(_real("poses", "asl", "standard_landmarks", "colin-SAD.pose")))


@pytest.fixture(scope="module")
def bob():
    """BOB fingerspelled from the fingerspelling lexicon (letters b-o-b)."""
    lexicon = pytest.importorskip("signstudio.production.lexicon")
    return lexicon.produce_from_lexicon([("bob", "BOB")], "asl")


@pytest.fixture(scope="module")
def skels():
    """A real PHOENIX-2014-T sentence as the 50-joint skeleton (skeleton units)."""
    line = _real("phoenix14t", "skels", "dev.skels").open().readline().split()
    return np.asarray(line, dtype=np.float32).reshape(-1, 151)[:, :150].reshape(-1, 50, 3)


def _drawn(image: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels that are not the background."""
    return np.abs(image.astype(int) - BACKGROUND).max(axis=-1) > 12


def _magenta(image: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of the right hand's colour (any shade, outline included)."""
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return (r - g > 50) & (b - g > 30)


def _hand_box(scene, frame: int, style: str, camera=None, size=SIZE) -> np.ndarray:
    hand = next(h for h in scene.hands if h.style == style)
    proj = project(scene, frame, camera, size)
    pts = proj.xy[hand.index[scene.visible[frame, hand.index]]]
    return np.ptp(pts, axis=0)


def test_fingerspelled_hand_is_large_and_drawn_with_thick_bones(bob):
    scene = build_scene(bob.pose)
    frame = bob.segments[0].start + 5  # the first B: a flat hand, fingers up
    image = render(scene, frame, size=SIZE)
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    box = _hand_box(scene, frame, "right_hand")
    assert box.max() >= 90, f"the hand spans only {box} px at 512 px"
    # Thick bones: the hand's pixels fill a good part of its box, not hair-thin lines.
    proj = project(scene, frame, None, SIZE)
    hand = next(h for h in scene.hands if h.style == "right_hand")
    (x0, y0), (x1, y1) = proj.xy[hand.index].min(0).astype(int), proj.xy[hand.index].max(0).astype(int)
    colored = _magenta(image[y0:y1 + 1, x0:x1 + 1])
    assert colored.sum() > 1500 and colored.mean() > 0.2, (colored.sum(), colored.mean())
    # The hand is enlarged about its wrist: at true size it is clearly smaller.
    plain = build_scene(bob.pose, hand_scale=1.0)
    assert _hand_box(plain, frame, "right_hand").max() < 0.8 * box.max()


def test_nearer_bones_cover_farther_ones(sad_scene):
    """SAD's hands are in front of the face: drawn over it; with the depth mirrored, behind."""
    camera = Camera(azimuth=0.0, elevation=0.0)
    counts = []
    for scene in (sad_scene, dataclasses.replace(
            sad_scene, positions=sad_scene.positions * np.array([1, -1, 1], np.float32))):
        best = None
        for frame in range(5, sad_scene.frames - 5):
            proj = project(scene, frame, camera, SIZE)
            face = scene.face[scene.visible[frame, scene.face]]
            hull = cv2.convexHull(proj.xy[face].astype(np.float32)).astype(np.int32)
            mask = np.zeros(SIZE[::-1], np.uint8)
            cv2.fillPoly(mask, [hull], 1)
            hand = next(h for h in scene.hands if h.style == "right_hand")
            inside = [cv2.pointPolygonTest(hull, tuple(map(float, p)), False) > 0
                      for p in proj.xy[hand.index]]
            if scene.visible[frame, hand.index].all() and (best is None or sum(inside) > best[0]):
                best = (sum(inside), frame, mask.astype(bool))
        assert best is not None and best[0] >= 5, "no frame with the right hand over the face"
        _, frame, mask = best
        image = render(scene, frame, camera, SIZE)
        counts.append(int(_magenta(image)[mask].sum()))
        if len(counts) == 1:
            head = np.abs(image[mask].astype(int) - HEAD_FILL).max(-1) < 6
            assert head.sum() > 200  # the head is there, filled
    front, behind = counts
    assert front > 800 and behind < front / 4, counts


def _neck_fill(scene, frame: int, camera) -> float:
    """Fraction of drawn pixels on the lower half of the line from the neck's base to the head."""
    image = render(scene, frame, camera, SIZE)
    base, top = project(scene, frame, camera, SIZE).at(scene.neck[frame])
    samples = [base + (top - base) * t for t in np.linspace(0.1, 0.5, 20)]
    drawn = _drawn(image)
    return float(np.mean([drawn[int(round(py)), int(round(px))] for px, py in samples]))


@pytest.mark.parametrize("layout_name", ["holistic", "skeleton50"])
def test_the_head_sits_on_a_neck(layout_name, sad_scene, skels):
    if layout_name == "holistic":
        scene = sad_scene
    else:
        from signstudio.pose.skeletons import skels_to_pose

        scene = build_scene(skels_to_pose(skels))
    camera = Camera(azimuth=0.0, elevation=0.0)
    hands = np.concatenate([h.index for h in scene.hands])
    free = scene.neck_visible & ~scene.visible[:, hands].any(axis=1)  # no hand near the neck
    frames = np.flatnonzero(free if free.any() else scene.neck_visible)
    frame = int(frames[len(frames) // 2])
    assert _neck_fill(scene, frame, camera) > 0.95
    headless = dataclasses.replace(scene, neck_visible=np.zeros_like(scene.neck_visible))
    if layout_name == "holistic":  # between the shoulders and the chin there is nothing else
        assert _neck_fill(headless, frame, camera) < 0.5


def test_signllm_skeleton_keeps_its_hands_at_the_wrists(skels):
    """A skeleton whose hands are noise (as an untrained model's) gets hands of a hand's size at
    the wrists; real data is left nearly as it is."""
    from signstudio.pose.skeletons import (HAND_LIMBS, L_WRIST, LEFT_HAND, reference_bones,
                                           with_reference_bones)

    fixed = with_reference_bones(skels)
    moved = np.linalg.norm(fixed - skels, axis=-1)
    assert moved[:, :8].max() == 0  # the body as it was
    assert moved.max() < 0.05 and moved[:, 8:].mean() < 0.025, (moved.max(), moved[:, 8:].mean())
    rng = np.random.default_rng(0)
    noisy = skels.copy()
    noisy[:, 8:] += rng.normal(0, 0.08, noisy[:, 8:].shape).astype(np.float32)
    out = with_reference_bones(noisy)
    for parent, child, length in reference_bones():
        got = np.linalg.norm(out[:, child] - out[:, parent], axis=-1)
        assert np.allclose(got, length, atol=1e-4)
    assert np.allclose(np.linalg.norm(out[:, LEFT_HAND.start] - out[:, L_WRIST], axis=-1), 0.0361,
                       atol=1e-4)
    span = np.ptp(out[:, LEFT_HAND], axis=1).max()
    assert span < 0.4 < np.ptp(noisy[:, LEFT_HAND], axis=1).max() * 2
    assert len(HAND_LIMBS) == 20


def test_camera_orbit_zoom_and_reset():
    camera = Camera()
    turned = camera.orbit(30, 100)
    assert turned.azimuth == pytest.approx(camera.azimuth + 30) and turned.elevation == 89.0
    assert camera.orbit(400, 0).azimuth == pytest.approx(((camera.azimuth + 400 + 180) % 360) - 180)
    assert camera.zoomed(2).zoom == 2.0 and camera.zoomed(1000).zoom == 8.0
    with pytest.raises(ValueError):
        camera.zoomed(0)
    assert Camera() == camera  # the first view is a value: "reset" is Camera()


def test_hand_close_ups_and_caption_band(bob):
    scene = build_scene(bob.pose)
    frame = bob.segments[0].start + 5
    image = render(scene, frame, size=(768, 512), hands=True,
                   caption=Caption("BOB", ("b", "o", "b"), 0))
    parts = layout(768, 512, hands=True, caption=True)
    (ux, uy, uw, uh), (lx, ly, lw, lh) = parts.insets
    upper = image[uy:uy + uh, ux:ux + uw]
    assert _magenta(upper).sum() > 3000  # the right hand, large
    bx, by, bw, bh = parts.band
    band = image[by:by + bh, bx:bx + bw]
    assert (np.abs(band.astype(int) - (255, 210, 77)).max(-1) < 8).sum() > 300  # the current letter
    assert (band.astype(int).sum(-1) < 200).sum() > 300  # dark text
    with pytest.raises(ValueError):
        render(scene, 0, size=(8, 8))
    with pytest.raises(IndexError):
        render(scene, scene.frames, size=SIZE)


# --- export ---------------------------------------------------------------------------------------
def _read_mp4(path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])  # BGR -> RGB
    capture.release()
    return frames


def test_exported_video_captions_each_gloss_and_letter(bob, tmp_path):
    from signstudio.production.render import export

    seg = bob.segments[0]
    assert seg.letters == ("b", "o", "b")
    pad = 6
    pose = bob.pose
    production = Production(pose, ["BOB"], [Segment("BOB", seg.start, seg.end - pad, "fingerspelled",
                                                    seg.letters)], "ase")
    path = export(production.pose, tmp_path / "bob.mp4", size=256,
                  segments=production.segments, hands=True)
    frames = _read_mp4(path)
    assert len(frames) == production.frames and frames[0].shape == (256, 384, 3)
    bx, by, bw, bh = layout(384, 256, hands=True, caption=True).band
    bands = [f[by + 2:by + bh, bx:bx + bw].astype(int) for f in frames]
    by_letter: dict = {}
    for i in range(production.frames):
        by_letter.setdefault(production.segments[0].letter_at(i), []).append(i)
    # The same caption in the frames of one letter, another one in another letter's frames.
    first, second = by_letter[0], by_letter[1]
    same = np.abs(bands[first[1]] - bands[first[-2]]).mean()
    other = np.abs(bands[first[1]] - bands[second[1]]).mean()
    assert same < 1.5 and other > 3 * max(same, 0.5), (same, other)
    # After the segment (its last frames): an empty band.
    blank = bands[production.frames - 2]
    assert (np.abs(blank - BAND_BACKGROUND).max(-1) > 40).sum() < 20  # (mp4 blurs a little)
    assert (bands[first[1]].sum(-1) < 300).sum() > 100  # text in the band


def test_export_is_atomic_when_drawing_fails(bob, tmp_path, monkeypatch):
    import signstudio.pose.draw as draw
    from signstudio.production.render import export

    target = tmp_path / "bob.mp4"
    target.write_bytes(b"an older video")
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("disk gone")
        return real(*args, **kwargs)

    real = draw.render
    monkeypatch.setattr(draw, "render", failing)
    with pytest.raises(RuntimeError):
        export(bob.pose, target, size=64)
    assert target.read_bytes() == b"an older video"
    assert [p.name for p in tmp_path.iterdir()] == ["bob.mp4"]
    with pytest.raises(InputError, match="too small"):
        export(bob.pose, tmp_path / "x.gif", size=8)
