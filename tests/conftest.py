"""Shared test set-up: Qt runs offscreen, and real data is found (or the test is skipped)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile

# Before anything imports Qt: without a display, Qt's default (xcb) platform aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Models a test trains never land in (or read from) the real per-user models folder.
os.environ["SIGNSTUDIO_USER_MODELS"] = tempfile.mkdtemp(prefix="signstudio-user-models-")
# ... nor in the user's prepared datasets: a name such as `wlasl100` finds the shared data.
os.environ["SIGNSTUDIO_USER_DATASETS"] = tempfile.mkdtemp(prefix="signstudio-user-datasets-")
# Preferences go to a file of the test session, never to the user's own settings.
os.environ["SIGNSTUDIO_SETTINGS"] = os.path.join(tempfile.mkdtemp(prefix="signstudio-settings-"), "settings.ini")

import pytest  # noqa: E402

from signstudio.paths import data_dir as _data_dir  # noqa: E402


#: Test files that take two minutes or more on 2 cores (fresh-clone runs): collected first, so that
#: pytest-xdist's workers (``scripts/test.sh``) start them early instead of ending on one alone.
HEAVY_FIRST = ("test_training.py", "test_onnx_text_signllm.py", "test_wlasl_model.py", "test_resume.py",
               "test_production.py")


def pytest_collection_modifyitems(session, config, items):
    """Put the :data:`HEAVY_FIRST` files first (a stable sort: each file's tests keep their order)."""
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def data_dir():
    """The shared real-data folder (``signstudio.paths.data_dir()``); skips the test if absent."""
    path = _data_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder {path} does not exist "
                    "(set SIGNSTUDIO_DATA to a folder with videos/ to run this test)")
    return path


@pytest.fixture
def small_phoenix(tmp_path, data_dir):
    """The first 96 train / 24 dev / 8 test PHOENIX-2014-T sentences as an annotation folder
    (``data.path`` of a text config), for quick text-recipe runs; skips without the data."""
    src = data_dir / "phoenix14t" / "annotations"
    if not src.is_dir():
        pytest.skip(f"PHOENIX-2014-T annotations not found at {src}")
    folder = tmp_path / "phoenix-small"
    folder.mkdir()
    for split, n in (("train", 96), ("dev", 24), ("test", 8)):
        for kind in ("de", "gloss"):
            lines = (src / f"{split}.{kind}").read_text(encoding="utf-8").splitlines()[:n]
            (folder / f"{split}.{kind}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_wlasl(tmp_path_factory):
    """The 20 WLASL100 test videos of the data folder as a small WLASL split (first 14 train, 6 val):
    ``(WLASL folder, videos folder)``, for the video models' tests."""
    from signstudio.paths import data_dir

    source = data_dir() / "wlasl100"
    videos = sorted((source / "videos").glob("*.mp4"))
    if len(videos) < 10:
        pytest.skip("the WLASL100 sample videos are not in the data folder")
    root = tmp_path_factory.mktemp("wlasl-video")
    split = json.loads((source / "nslt_100.json").read_text())
    ids = [v.stem for v in videos if v.stem in split]
    small = {vid: {**split[vid], "subset": "train" if i < 14 else "val"} for i, vid in enumerate(ids)}
    (root / "nslt_100.json").write_text(json.dumps(small))
    shutil.copy(source / "WLASL100.json", root / "WLASL100.json")
    return root, source / "videos"


# --- Qt widgets (the GUI modules; PySide6 is imported inside, so non-Qt tests never load it) ------
@pytest.fixture
def flush_deletes(qapp):
    """A function that runs Qt's deferred deletes (``deleteLater``) and pending events, so that
    closed widgets are really gone before the leak check looks."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    def flush() -> None:
        for _ in range(3):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            QApplication.processEvents()

    return flush


@pytest.fixture
def no_leaked_widgets(qapp, flush_deletes):
    """Every test must close and delete the widgets it opens (napari's leak check). GUI modules
    apply it to all their tests: ``pytestmark = pytest.mark.usefixtures("no_leaked_widgets")``
    (set up before, so torn down after, the test's own widget fixtures)."""
    from PySide6.QtWidgets import QApplication

    before = set(QApplication.topLevelWidgets())
    yield
    flush_deletes()
    leaked = [w for w in QApplication.topLevelWidgets() if w not in before]
    assert not leaked, f"top-level widgets leaked: {leaked}"


@pytest.fixture
def shown_widgets(qtbot, flush_deletes):
    """``show(factory, size=(1280, 800))``: a widget made by ``factory()``, resized (``size=None``
    keeps its own size), shown and exposed. After the test each one is shut down (``shutdown()``,
    where it has one, cancels its jobs and waits for their threads), closed and deleted."""
    widgets = []

    def show(factory, size=(1280, 800)):
        widget = factory()
        if size is not None:
            widget.resize(*size)
        widget.show()
        qtbot.waitExposed(widget)
        widgets.append(widget)
        return widget

    yield show
    for widget in widgets:
        if hasattr(widget, "shutdown"):
            widget.shutdown()
        widget.close()
        widget.deleteLater()
    flush_deletes()


# --- real poses shared by the Produce tab's and the 3D view's tests -----------------------------
@pytest.fixture
def house_sad(data_dir):
    """A production of two real ASL signs (HOUSE, then SAD) with hand-made segments."""
    import numpy as np
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    from signstudio.pose.io import read_pose
    from signstudio.production.types import Production, Segment

    folder = data_dir / "poses" / "asl" / "standard_landmarks"
    house = read_pose(folder / "colin-1-HOUSE.pose")  # 93 frames
    sad = read_pose(folder / "colin-SAD.pose")  # 76 frames
    data = np.ma.concatenate([house.body.data, sad.body.data], axis=0)
    conf = np.concatenate([house.body.confidence, sad.body.confidence], axis=0)
    pose = Pose(house.header, NumPyPoseBody(fps=float(house.body.fps), data=data, confidence=conf))
    segments = [Segment("HOUSE", 0, 90, "lexicon"), Segment("SAD", 96, 169, "fingerspelled")]
    return Production(pose, ["HOUSE", "SAD"], segments, "ase",
                      ["SAD was fingerspelled (s-a-d)"])


@pytest.fixture
def skeleton50_pose(data_dir):
    """A real PHOENIX-2014-T sentence as the 50-joint skeleton (Progressive Transformers)."""
    import numpy as np

    skeletons = pytest.importorskip("signstudio.pose.skeletons")
    path = data_dir / "phoenix14t" / "skels" / "dev.skels"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    with open(path) as f:
        values = np.array(f.readline().split(), dtype=np.float32)
    frames = values.reshape(-1, 151)[:, :150].reshape(-1, 50, 3)
    return skeletons.skels_to_pose(frames)
