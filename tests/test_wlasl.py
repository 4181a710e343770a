"""WLASL in its own layout: the official splits, and preparing landmarks from the real clips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from signstudio.cli import main
from signstudio.data.wlasl import class_names, find_wlasl_files, load_wlasl, load_wlasl_folder


@pytest.fixture
def wlasl(data_dir):
    folder = data_dir / "wlasl100"
    if not (folder / "nslt_100.json").is_file():
        pytest.skip(f"WLASL100 is not in {data_dir}")
    return folder


def test_the_official_wlasl100_split_and_its_glosses(wlasl):
    split_file, metadata = find_wlasl_files(wlasl)
    clips = load_wlasl(split_file, metadata)
    sizes = {s: sum(c.split == s for c in clips) for s in ("train", "dev", "test")}
    assert sizes == {"train": 1442, "dev": 338, "test": 258}
    names = class_names(split_file, metadata)
    assert len(names) == 100 and names[0] == "BOOK" and len(set(names)) == 100
    assert all(names[c.label] == c.gloss.upper() for c in clips)
    assert len({c.signer for c in clips}) > 90  # 97 signers
    splits, _ = load_wlasl_folder(wlasl)
    assert len(splits["test"]) == 258 and all((wlasl / "poses" / f"{c.video_id}.pose").is_file() for c in splits["test"])


def test_prepare_extracts_resumes_and_lists_failures(wlasl, tmp_path, capsys):
    videos = sorted((wlasl / "videos").glob("*.mp4"))[:2]
    if len(videos) < 2:
        pytest.skip("the WLASL100 test videos are not in the data folder")
    split = json.loads((wlasl / "nslt_100.json").read_text())
    (tmp_path / "clips").mkdir()
    for v in videos:
        (tmp_path / "clips" / v.name).write_bytes(v.read_bytes())
    (tmp_path / "clips" / "99999.mp4").write_bytes(b"not a video at all")
    mine = {v.stem: split[v.stem] for v in videos}
    mine["99999"] = {"subset": "train", "action": [0, 1, 10]}
    mine["88888"] = {"subset": "train", "action": [0, 1, 10]}  # no video
    (tmp_path / "nslt_100.json").write_text(json.dumps(mine))
    out = tmp_path / "prepared"
    argv = ["datasets", "prepare", "wlasl", str(tmp_path / "clips"), "-o", str(out), "--split-file",
            str(tmp_path / "nslt_100.json"), "--metadata", str(wlasl / "WLASL100.json"), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["done"] == 2 and report["missing"] == ["88888"]
    assert [f["video_id"] for f in report["failed"]] == ["99999"]
    assert (out / "nslt_100.json").is_file() and (out / "WLASL100.json").is_file()
    assert "99999" in (out / "failed.tsv").read_text()

    from signstudio.pose.io import read_pose

    for v in videos:  # the same landmarks as the shared test poses, made the same way
        mine_pose, shared = read_pose(out / "poses" / f"{v.stem}.pose"), read_pose(wlasl / "poses" / f"{v.stem}.pose")
        assert [c.name for c in mine_pose.header.components] == [c.name for c in shared.header.components]
        assert mine_pose.body.data.shape == shared.body.data.shape
        np.testing.assert_allclose(np.ma.getdata(mine_pose.body.data), np.ma.getdata(shared.body.data), atol=1e-3)

    before = {p.name: p.stat().st_mtime_ns for p in (out / "poses").iterdir()}
    assert main(argv) == 0  # resumable: nothing is extracted again
    again = json.loads(capsys.readouterr().out)
    assert again["done"] == 0 and again["skipped"] == 2
    assert {p.name: p.stat().st_mtime_ns for p in (out / "poses").iterdir()} == before


def test_a_prepared_wlasl_folder_becomes_a_lexicon_of_its_clearest_recordings(wlasl, tmp_path, capsys):
    import shutil

    folder = tmp_path / "wlasl100"
    shutil.copytree(wlasl / "poses", folder / "poses")
    for name in ("nslt_100.json", "WLASL100.json"):
        shutil.copy(wlasl / name, folder / name)
    assert main(["lexicon", str(folder), "--lang", "asl", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["layout"] == "wlasl" and report["entries"] == 100 and report["missing"] == []
    rows = (folder / "index.csv").read_text().splitlines()[1:]
    books = [r for r in rows if r.split(",")[6] == "BOOK"]
    assert len(books) == 1 and books[0].startswith("poses/")
    out = tmp_path / "book.pose"
    assert main(["produce", "book", "--lang", "asl", "--lexicon", str(folder), "-o", str(out), "--json"]) == 0
    produced = json.loads(capsys.readouterr().out)
    assert [s["source"] for s in produced["segments"]] == ["lexicon"]  # a real recording, not fingerspelling
