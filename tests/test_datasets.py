"""Dataset loaders on the real shared data (slt pickles, How2Sign, manifests) and the catalog."""

from __future__ import annotations

import functools
import gzip
import json
import pickle
import shutil
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from signstudio.data.catalog import DatasetInfo, find_datasets, format_table
from signstudio.data.how2sign import (NUM_KEYPOINTS, load_how2sign, read_openpose_clip, to_pose, unquote)
from signstudio.data.manifest import load_manifest, split_counts
from signstudio.data.slt import SltExample, load_slt, restricted_loads
from signstudio.errors import InputError


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg, msg
    return msg


def _folder(data_dir: Path, rel: str) -> Path:
    path = data_dir / rel
    if not path.exists():
        pytest.skip(f"{path} is absent from the real data folder")
    return path


@functools.lru_cache(maxsize=None)
def _slt(folder: Path, split: str) -> list[SltExample]:
    return load_slt(split, folder)


# --- PHOENIX-2014-T, slt pickles ----------------------------------------------------------------


def test_slt_splits_match_the_official_sizes_and_the_text_files(data_dir):
    folder = _folder(data_dir, "phoenix14t/slt-annotations")
    annotations = _folder(data_dir, "phoenix14t/annotations")
    for split, size in (("train", 7096), ("dev", 519), ("test", 642)):
        examples = _slt(folder, split)
        assert len(examples) == size
        assert len({e.name for e in examples}) == size and all(e.name.startswith(f"{split}/") for e in examples)
        # The annotations/ copy lists the same sentences (in another order): every German
        # sentence occurs equally often; dev and test glosses are identical too (train's gloss
        # file keeps the raw __ON__ / loc- tags that slt removed).
        de = (annotations / f"{split}.de").read_text(encoding="utf-8").splitlines()
        assert Counter(de) == Counter(e.text for e in examples)
        if split != "train":
            gloss = (annotations / f"{split}.gloss").read_text(encoding="utf-8").splitlines()
            assert Counter(zip(gloss, de)) == Counter((" ".join(e.glosses), e.text) for e in examples)
    e = _slt(folder, "dev")[0]
    assert e.name == "dev/11August_2010_Wednesday_tagesschau-2" and e.signer == "Signer08"
    assert e.glosses == ["DRUCK", "TIEF", "KOMMEN"] and e.text.endswith("unser wetter .")
    assert e.features is None and e.num_frames == 42
    assert e.alignment_streams == ("pami0", "pami1", "pami2")
    assert e.alignments.shape == (42, 3) and e.alignments.dtype == np.int32
    assert e.alignments[:4, 0].tolist() == [0, 0, 622, 622]
    train = _slt(folder, "train")
    assert all(x.alignments.shape == (x.num_frames, 3) for x in train)
    assert len({x.signer for x in train}) == 9


def test_slt_names_match_the_skeleton_files_line_for_line(data_dir):
    """The Progressive Transformers files name their sentences: same gloss and text in slt."""
    slt, skels = _folder(data_dir, "phoenix14t/slt-annotations"), _folder(data_dir, "phoenix14t/skels")
    for split in ("train", "dev", "test"):
        by_name = {e.name: e for e in _slt(slt, split)}
        files, gloss, text = ((skels / f"{split}.{k}").read_text(encoding="utf-8").splitlines()
                              for k in ("files", "gloss", "text"))
        assert len(files) == 5
        for name, g, t in zip(files, gloss, text):
            assert by_name[name.strip()].glosses == g.split()
            assert by_name[name.strip()].text == t.strip()


def test_slt_features_are_decoded_from_torch_tensors_without_torch_load(tmp_path):
    torch = pytest.importorskip("torch")
    feats = torch.randn(5, 1024)
    strided = torch.randn(4, 7).t()[1:]  # (6, 4), non-contiguous, offset into its storage
    entries = [
        {"name": "train/a", "signer": "S1", "gloss": "A B", "text": "a b .", "sign": feats},
        {"name": "train/b", "signer": "S2", "gloss": "C", "text": "c .", "sign": strided,
         "alignments": {"x": "1 2 3 4 5 6", "y": "0 0 0 1 1 1"}},
        {"name": "train/c", "signer": "S2", "gloss": "D", "text": "d .", "sign": torch.randn(2, 3).half()},
    ]
    path = tmp_path / "phoenix14t.train"
    path.write_bytes(gzip.compress(pickle.dumps(entries)))
    a, b, c = load_slt(path)
    assert a.features.dtype == np.float32 and a.features.shape == (5, 1024) and a.num_frames == 5
    np.testing.assert_array_equal(a.features, feats.numpy())
    np.testing.assert_array_equal(b.features, strided.numpy())
    assert b.alignments.tolist() == [[1, 0], [2, 0], [3, 0], [4, 1], [5, 1], [6, 1]]
    np.testing.assert_array_equal(c.features, c.features.astype(np.float16).astype(np.float32))
    # the split name resolves in a folder too
    assert [e.name for e in load_slt("train", tmp_path)] == ["train/a", "train/b", "train/c"]


def _binbytes_call(module: str, name: str, payload: bytes) -> bytes:
    """A protocol-2 pickle calling ``module.name(payload)``."""
    return (b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"B" + struct.pack("<I", len(payload))
            + payload + b"\x85R.")


def test_restricted_unpickler_refuses_code_and_never_runs_it(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()  # pickle.loads(evil) would run it
    path = tmp_path / "phoenix14t.dev"
    path.write_bytes(gzip.compress(evil))
    with pytest.raises(InputError) as exc:
        load_slt(path)
    assert "os.system" in _one_line(exc) and str(path) in str(exc.value)
    # the same payload hidden inside a "torch storage": the inner pickle is restricted as well
    path.write_bytes(gzip.compress(_binbytes_call("torch.storage", "_load_from_bytes", evil)))
    with pytest.raises(InputError) as exc:
        load_slt(path)
    assert "os.system" in _one_line(exc)
    for module, name in (("builtins", "eval"), ("torch", "load"), ("subprocess", "Popen")):
        with pytest.raises(InputError, match=f"{module}.{name}"):
            restricted_loads(_binbytes_call(module, name, b"1"))
    assert not marker.exists()


def test_slt_malformed_files_give_one_line_errors(tmp_path):
    cases = {
        "garbage": b"this is not a pickle",
        "not-a-list": gzip.compress(pickle.dumps({"name": "x"})),
        "empty": gzip.compress(pickle.dumps([])),
        "no-gloss": gzip.compress(pickle.dumps([{"name": "dev/x", "signer": "S", "text": "t"}])),
        "bad-alignment": gzip.compress(pickle.dumps([{"name": "dev/x", "signer": "S", "gloss": "A", "text": "t",
                                                      "num_frames": 3, "alignments": {"p": "1 2"}}])),
        "truncated-gzip": gzip.compress(pickle.dumps([1, 2, 3]))[:-6],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError) as exc:
            load_slt(tmp_path / name)
        assert str(tmp_path / name) in _one_line(exc), name
    with pytest.raises(InputError, match="no such file"):
        load_slt(tmp_path / "missing")
    with pytest.raises(InputError, match="no slt pickle"):
        load_slt("dev", tmp_path)


# --- How2Sign OpenPose --------------------------------------------------------------------------


def test_how2sign_clips_frames_and_sentences(data_dir):
    folder = _folder(data_dir, "how2sign")
    clips = load_how2sign(folder)
    tsv = [line.split("\t") for line in (folder / "openpose_sentences.tsv").read_text().splitlines()[1:]]
    assert [c.name for c in clips] == sorted(r[0] for r in tsv)
    val = dict(zip((folder / "val.files").read_text().splitlines(), (folder / "val.text").read_text().splitlines()))
    frames_of = {r[0]: int(r[1]) for r in tsv}
    for clip in clips:
        assert clip.frames.shape == (frames_of[clip.name], NUM_KEYPOINTS, 3) and clip.frames.dtype == np.float32
        assert clip.fps == 24.0
        assert clip.text == unquote(val[clip.name])  # the TSV agrees with val.files / val.text
        conf = clip.frames[..., 2]
        # OpenPose scores: body in [0, 1]; face and hand heatmap peaks may pass 1 a little
        assert conf.min() >= 0.0 and conf[:, :25].max() <= 1.0 and conf.max() < 1.2
        seen = clip.frames[conf > 0]
        assert (seen[:, 0] < 1280).all() and (seen[:, 1] < 720).all()
        assert not clip.frames[conf == 0][:, :2].any()
        assert (conf[:, :25] > 0).mean() > 0.5  # the body is found in most frames
    oil = next(c for c in clips if c.name == "_2FBDaOPYig_2-3-rgb_front")
    assert oil.frames.shape == (157, 137, 3)
    assert oil.text.startswith("So we are currently heating up the oil") and not oil.text.startswith('"')


def test_how2sign_to_pose_equals_pose_format_openpose_reader(data_dir):
    folder = _folder(data_dir, "how2sign")
    from pose_format import Pose
    from pose_format.utils.openpose import load_openpose_directory

    clip = load_how2sign(folder)[-1]
    pose = to_pose(clip)
    assert [(c.name, len(c.points)) for c in pose.header.components] == [
        ("pose_keypoints_2d", 25), ("face_keypoints_2d", 70), ("hand_left_keypoints_2d", 21),
        ("hand_right_keypoints_2d", 21)]
    assert all(c.limbs for c in pose.header.components)
    assert pose.body.data.shape == (len(clip.frames), 1, 137, 2) and pose.body.fps == 24.0
    ref = load_openpose_directory(str(folder / "openpose" / clip.name), fps=24, width=1280, height=720)
    np.testing.assert_array_equal(pose.body.data.data, ref.body.data.data)
    np.testing.assert_array_equal(pose.body.confidence, ref.body.confidence)
    np.testing.assert_array_equal(pose.body.data.mask, ref.body.data.mask)
    again = Pose.read(_pose_bytes(pose))
    np.testing.assert_array_equal(again.body.data.data, pose.body.data.data)


def _pose_bytes(pose) -> bytes:
    import io

    buf = io.BytesIO()
    pose.write(buf)
    return buf.getvalue()


def _openpose_person(value: float, conf: float) -> dict:
    return {key: [value, value, conf] * n for key, n in (
        ("pose_keypoints_2d", 25), ("face_keypoints_2d", 70), ("hand_left_keypoints_2d", 21),
        ("hand_right_keypoints_2d", 21))}


def test_how2sign_missing_people_and_frames_are_zero(tmp_path):
    clip = tmp_path / "openpose" / "clip-1-rgb_front"
    clip.mkdir(parents=True)
    frames = {0: [_openpose_person(10, 0.9)], 1: [], 3: [_openpose_person(5, 0.2), _openpose_person(7, 0.8)]}
    for i, people in frames.items():  # frame 2 has no file
        (clip / f"clip-1-rgb_front_{i:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    (tmp_path / "openpose_sentences.tsv").write_text('clip\tframes\tsentence\nclip-1-rgb_front\t5\t"Hi, you."\n')
    (c,) = load_how2sign(tmp_path)
    assert c.text == "Hi, you." and c.frames.shape == (5, 137, 3)
    np.testing.assert_array_equal(c.frames[0], np.tile(np.float32([10, 10, 0.9]), (137, 1)))
    assert not c.frames[1].any() and not c.frames[2].any() and not c.frames[4].any()
    assert (c.frames[3, :, 0] == 7).all()  # the more confident of two people
    assert not to_pose(c).body.data.mask[0].any() and to_pose(c).body.data.mask[1].all()


def test_how2sign_malformed_inputs_give_one_line_errors(tmp_path):
    clip = tmp_path / "openpose" / "c"
    clip.mkdir(parents=True)
    bad = clip / "c_000000000000_keypoints.json"
    bad.write_text("{not json")
    with pytest.raises(InputError) as exc:
        read_openpose_clip(clip)
    assert str(bad) in _one_line(exc)
    person = _openpose_person(1, 1)
    person["hand_left_keypoints_2d"] = person["hand_left_keypoints_2d"][:-3]
    bad.write_text(json.dumps({"people": [person]}))
    with pytest.raises(InputError, match="hand_left_keypoints_2d has 60 numbers"):
        read_openpose_clip(clip)
    bad.write_text(json.dumps({"people": [_openpose_person(1, 1)]}))
    with pytest.raises(InputError, match="no sentences"):
        load_how2sign(tmp_path)
    (tmp_path / "openpose_sentences.tsv").write_text("clip\tframes\tsentence\nother\t3\tHello.\n")
    with pytest.raises(InputError) as exc:
        load_how2sign(tmp_path)
    assert "clip c has no sentence" in _one_line(exc)
    with pytest.raises(InputError, match="no such How2Sign folder"):
        load_how2sign(tmp_path / "nowhere")


# --- manifests of the user's recordings ---------------------------------------------------------


def _recordings(data_dir: Path, tmp_path: Path) -> list[Path]:
    poses = sorted(_folder(data_dir, "poses").rglob("*.pose"))[:3]
    if len(poses) < 3:
        pytest.skip("fewer than 3 .pose files in the real data folder")
    (tmp_path / "rec").mkdir()
    out = []
    for i, p in enumerate(poses):
        shutil.copy(p, tmp_path / "rec" / f"{i}-{p.name}")
        out.append(tmp_path / "rec" / f"{i}-{p.name}")
    return out


def test_manifest_round_trip_with_real_pose_files(data_dir, tmp_path):
    from signstudio.pose.io import read_pose

    recs = _recordings(data_dir, tmp_path)
    rows = [("HOUSE", "the house", "train"), ("SAD", "", "train"), ("LIBRARY BOOK", "a library", "test")]
    (tmp_path / "manifest.tsv").write_text("path\tgloss\ttext\tsplit\n" + "".join(
        f"rec/{p.name}\t{g}\t{t}\t{s}\n" for p, (g, t, s) in zip(recs, rows)))
    items = load_manifest(tmp_path)
    assert [i.path for i in items] == recs
    assert [(i.glosses, i.text, i.split) for i in items] == [(g.split(), t, s) for g, t, s in rows]
    assert split_counts(items) == {"train": 2, "test": 1}
    assert [i.path for i in load_manifest(tmp_path, "test")] == [recs[2]]
    assert all(read_pose(i.path).body.data.shape[0] > 0 for i in items)


def test_split_tsv_is_the_skeleton_manifest_format(data_dir, tmp_path):
    """``{split}.tsv`` without a header is what :func:`signstudio.data.skeletons.load_pose_manifest` reads."""
    from signstudio.data.skeletons import load_pose_manifest

    recs = _recordings(data_dir, tmp_path)
    (tmp_path / "dev.tsv").write_text(f"rec/{recs[0].name}\tHOUSE\tthe house\n\nrec/{recs[1].name}\tSAD\tsad\n")
    items = load_manifest(tmp_path, "dev")
    assert [(i.path.name, i.glosses, i.text, i.split, i.line) for i in items] == [
        (recs[0].name, ["HOUSE"], "the house", "dev", 1), (recs[1].name, ["SAD"], "sad", "dev", 3)]
    assert load_manifest(tmp_path) == items
    skel = load_pose_manifest(tmp_path, "dev")
    assert [(s.id, s.glosses, s.text) for s in skel] == [(f"rec/{i.path.name}", i.glosses, i.text) for i in items]


def test_manifest_errors_are_one_line_and_name_the_line(tmp_path):
    (tmp_path / "a.pose").write_bytes(b"")
    cases = [
        ("path\tgloss\n", "manifest.tsv:1: the header lacks column text"),
        ("path\tgloss\ttext\na.pose\tA\tx\nmissing.pose\tB\ty\n", "manifest.tsv:3: missing.pose: no such file"),
        ("path\tgloss\ttext\n", "lists no recordings"),
        ("path\tgloss\ttext\na.pose\tA\n", "manifest.tsv:2: 2 tab-separated columns"),
        ("path\tgloss\ttext\na.pose\t\t\n", "manifest.tsv:2: a.pose has neither gloss nor text"),
    ]
    for text, expected in cases:
        (tmp_path / "manifest.tsv").write_text(text)
        with pytest.raises(InputError) as exc:
            load_manifest(tmp_path)
        assert expected in _one_line(exc), (text, str(exc.value))
    (tmp_path / "manifest.tsv").write_text("path\tgloss\ttext\na.pose\tA\tx\n")
    with pytest.raises(InputError, match="no recordings of split 'dev'"):
        load_manifest(tmp_path, "dev")
    (tmp_path / "manifest.tsv").unlink()
    with pytest.raises(InputError, match="no manifest.tsv or SPLIT.tsv"):
        load_manifest(tmp_path)
    with pytest.raises(InputError, match="no such manifest folder"):
        load_manifest(tmp_path / "nowhere")


# --- the catalog ---------------------------------------------------------------------------------


def test_catalog_finds_every_shared_dataset_with_real_counts(data_dir):
    infos = find_datasets(data_dir)  # its speed (meant: under 2 s): benchmarks/catalog_scan.py
    by_kind: dict[str, list[DatasetInfo]] = {}
    for info in infos:
        by_kind.setdefault(info.kind, []).append(info)
    phoenix = {"train": 7096, "dev": 519, "test": 642}
    expected = {
        "boston104": ("boston104", {"train": 161, "test": 40}),
        "phoenix-text": ("phoenix14t/annotations", phoenix),
        "slt-pickle": ("phoenix14t/slt-annotations", phoenix),
        "pt-skels": ("phoenix14t/skels", {"train": 5, "dev": 5, "test": 5}),
        "how2sign-openpose": ("how2sign", {"val": 5}),
        "msl150-npy": ("isolated/msl150", {"all": 86}),
        "asl-app-json": ("isolated/asl-app", {"all": 100}),
        "pose-files": ("poses", {"all": len(list((data_dir / "poses").rglob("*.pose")))}),
    }
    for kind, (rel, splits) in expected.items():
        if not (data_dir / rel).exists():
            continue
        found = by_kind.pop(kind)
        # Pose folders of other datasets (e.g. wlasl100/poses) are listed as pose files too.
        (info,) = [i for i in found if i.path == data_dir / rel] if kind == "pose-files" else found
        assert info.path == data_dir / rel and info.splits == splits, info
        assert info.task and info.licence
    assert not by_kind, f"unexpected datasets: {by_kind}"
    slt = next(i for i in infos if i.kind == "slt-pickle")
    assert "no 'sign' features" in slt.notes
    table = format_table(infos, data_dir)
    assert "RWTH-BOSTON-104" in table and "train 7096, dev 519, test 642" in table and "slt-annotations/" in table


def test_catalog_lists_manifests_and_reports_broken_data(data_dir, tmp_path):
    recs = _recordings(data_dir, tmp_path)
    (tmp_path / "rec" / "manifest.tsv").write_text(
        "path\tgloss\ttext\tsplit\n" + "".join(f"{p.name}\tG{i}\t\t{'dev' if i else 'train'}\n"
                                               for i, p in enumerate(recs)))
    (tmp_path / "slt").mkdir()
    (tmp_path / "slt" / "phoenix14t.dev").write_bytes(gzip.compress(b"cos\nsystem\n(S'true'\ntR."))
    infos = {i.kind: i for i in find_datasets(tmp_path)}
    assert set(infos) == {"manifest", "slt-pickle"}
    assert infos["manifest"].splits == {"train": 1, "dev": 2} and infos["manifest"].path == tmp_path / "rec"
    assert infos["slt-pickle"].splits == {} and "os.system" in infos["slt-pickle"].notes
    assert find_datasets(tmp_path / "nowhere") == []
    assert format_table([]) == "no datasets found"
