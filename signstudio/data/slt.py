"""RWTH-PHOENIX-Weather-2014T in the Sign Language Transformers (slt) format, read without running code.

Format (Camgoz et al. 2020, "Sign Language Transformers", github.com/neccam/slt; also Signformer):
one file per split, ``phoenix14t.{train,dev,test}`` (the original repository names them
``phoenix14t.pami0.{split}``), a **gzip'd pickle** of a list of dicts::

    {"name": "dev/11August_2010_Wednesday_tagesschau-2", "signer": "Signer08",
     "gloss": "DRUCK TIEF KOMMEN", "text": "tiefer luftdruck bestimmt ... .",
     "sign": <torch.Tensor (T, 1024) float32, CNN features per frame; empty when not shipped>,
     "num_frames": 42,                                  # optional (Signformer's copy has it)
     "alignments": {"pami0": "0 0 622 ...", ...}}       # optional, one int per frame per stream

The shared copy (``$SIGNSTUDIO_DATA/phoenix14t/slt-annotations``) holds 7096 / 519 / 642 sentences
with empty ``sign`` tensors (the features are not redistributable) and three frame-level alignment
streams ``pami0`` (HMM gloss states, up to 3600), ``pami1`` and ``pami2`` (small class ids, up to 39
and 60; from Koller et al.'s PAMI 2019 multi-stream CNN-LSTM-HMM alignments).

**Safety.** A pickle can run arbitrary code when loaded, and torch's own tensor pickles go through
``torch.storage._load_from_bytes``, which calls ``torch.load(..., weights_only=False)``. So this
module never gives a pickle to ``pickle.load`` or ``torch.load``: :class:`RestrictedUnpickler`
resolves exactly three globals, each to a function of this module (the tensor rebuild, a NumPy
decoder of torch's legacy storage bytes that parses their inner pickles the same restricted way,
and ``collections.OrderedDict``); anything else (``os.system``, ``builtins.eval``, ...) is refused
with a one-line :class:`~signstudio.errors.InputError` before it is called. Torch is not imported.
"""

from __future__ import annotations

import gzip
import io
import math
import pickle
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signstudio.errors import InputError
from signstudio.paths import data_dir

SPLITS = ("train", "dev", "test")
#: Dimension of the per-frame CNN features slt uses for PHOENIX-2014-T.
FEATURE_DIM = 1024

#: The magic number and protocol version that open torch's legacy (non-zip) serialisation.
_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_LEGACY_PROTOCOL = 1001

#: torch storage classes (as named in a legacy storage pickle) -> NumPy dtype of their elements.
_STORAGE_DTYPES = {
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "BFloat16Storage": "bf16",
    "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "?",
}


@dataclass
class SltExample:
    """One PHOENIX-2014-T sentence from an slt pickle.

    Attributes:
        name: ``"{split}/{video folder}"``, e.g. ``"dev/11August_2010_Wednesday_tagesschau-2"``.
        signer: e.g. ``"Signer08"`` (9 signers in PHOENIX-2014-T).
        glosses: the DGS gloss sequence (slt's cleaned glosses: no ``__ON__``/``loc-`` tags).
        text: the German sentence, lowercased and tokenised as in the corpus.
        num_frames: frames of the video (25 fps); from ``num_frames``, else the feature length,
            else 0 (unknown).
        alignments: ``(T, K)`` int32 frame-level alignment ids, one column per stream in
            :attr:`alignment_streams`, or None when the file has none.
        features: ``(T, D)`` float32 per-frame features (``D`` = 1024 for slt's PHOENIX features),
            or None when the pickle holds no ``sign`` tensor or an empty one (annotations only).
        alignment_streams: names of the alignment columns, e.g. ``("pami0", "pami1", "pami2")``.
    """

    name: str
    signer: str
    glosses: list[str]
    text: str
    num_frames: int
    alignments: np.ndarray | None = None
    features: np.ndarray | None = None
    alignment_streams: tuple[str, ...] = field(default=())


# --- a NumPy decoder of torch tensors, reached only through the restricted unpickler ---------------


class _Refused(Exception):
    """A global the restricted unpickler will not resolve (turned into an InputError with the path)."""


def _bad(what: str) -> _Refused:
    return _Refused(f"malformed torch tensor data ({what})")


class _StorageUnpickler(pickle.Unpickler):
    """The inner pickles of a legacy torch storage: only ``torch.<X>Storage`` classes resolve."""

    def __init__(self, f: io.BytesIO) -> None:
        super().__init__(f)
        self.storages: dict[str, tuple[str, int]] = {}

    def find_class(self, module: str, name: str):
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]  # a dtype code stands in for the class
        raise _Refused(f"the pickle references {module}.{name}, which is not allowed")

    def persistent_load(self, pid):
        # ("storage", storage_type, key, location, numel, view_metadata)
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise _bad("unknown persistent id")
        _, dtype, key, _location, numel, view = pid
        if dtype not in _STORAGE_DTYPES.values() or not isinstance(key, str) or view is not None:
            raise _bad("unsupported storage")
        if not isinstance(numel, int) or numel < 0:
            raise _bad("storage size")
        self.storages[key] = (dtype, numel)
        return key


def _storage_from_bytes(b) -> np.ndarray:
    """Decode ``torch.save(storage, _use_new_zipfile_serialization=False)`` bytes to a 1-D array.

    Layout (torch.serialization._legacy_save): pickles of the magic number, the protocol version,
    a sys-info dict, the storage (a persistent id), the list of storage keys; then per key an
    int64 element count and the raw elements.
    """
    if not isinstance(b, bytes):
        raise _bad("storage is not bytes")
    f = io.BytesIO(b)
    up = _StorageUnpickler(f)
    try:
        magic, proto, sys_info = up.load(), up.load(), up.load()
        if magic != _TORCH_MAGIC or proto != _TORCH_LEGACY_PROTOCOL or not isinstance(sys_info, dict):
            raise _bad("not torch's legacy storage format")
        key = up.load()
        keys = up.load()
    except _Refused:
        raise
    except Exception:
        raise _bad("unreadable storage header") from None
    if not isinstance(keys, list) or key not in up.storages or keys != sorted(up.storages):
        raise _bad("storage keys")
    order = "<" if sys_info.get("little_endian", True) else ">"
    arrays = {}
    for k in keys:
        code, numel = up.storages[k]
        count = np.frombuffer(f.read(8), dtype=order + "i8")
        item = np.dtype(order + ("u2" if code == "bf16" else code))
        if count.size != 1 or int(count[0]) != numel:
            raise _bad("storage length")
        raw = f.read(numel * item.itemsize)
        if len(raw) != numel * item.itemsize:
            raise _bad("truncated storage")
        a = np.frombuffer(raw, dtype=item)
        if code == "bf16":  # bfloat16 is the top half of a float32
            a = (a.astype(np.uint32) << 16).view(np.float32)
        arrays[k] = a.astype(a.dtype.newbyteorder("="), copy=False)
    return arrays[key]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None) -> np.ndarray:
    """``torch._utils._rebuild_tensor_v2`` as a NumPy copy of the strided view (bounds checked)."""
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise _bad("tensor without a decoded storage")
    ints = [storage_offset, *size, *stride]
    if not all(isinstance(v, int) and v >= 0 for v in ints) or len(size) != len(stride):
        raise _bad("tensor shape")
    shape, strides = tuple(size), tuple(stride)
    if math.prod(shape) == 0:
        return np.zeros(shape, dtype=storage.dtype)
    last = storage_offset + sum((n - 1) * s for n, s in zip(shape, strides))
    if last >= storage.size:
        raise _bad("tensor exceeds its storage")
    view = np.lib.stride_tricks.as_strided(storage[storage_offset:], shape=shape,
                                           strides=[s * storage.itemsize for s in strides], writeable=False)
    return np.array(view)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler of slt annotation files that resolves only what those files need.

    Allowed globals: ``torch._utils._rebuild_tensor_v2`` and ``torch.storage._load_from_bytes``
    (both replaced by this module's NumPy decoders, so tensors come back as ``np.ndarray``) and
    ``collections.OrderedDict`` (a tensor's backward hooks). Every other global raises.
    """

    ALLOWED = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
        ("collections", "OrderedDict"): OrderedDict,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"the pickle references {module}.{name}, which is not allowed") from None

    def persistent_load(self, pid):
        raise _Refused("the pickle uses persistent ids, which slt annotation files never do")


def restricted_loads(data: bytes, source: str = "pickle"):
    """Unpickle ``data`` with :class:`RestrictedUnpickler`; tensors come back as NumPy arrays.

    Raises:
        InputError: a refused global (named in the message) or malformed pickle data.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except _Refused as exc:
        raise InputError(f"{source}: refusing to load: {exc}") from None
    except Exception as exc:  # truncated or garbage pickles raise many kinds of errors
        raise InputError(f"{source}: not a readable pickle ({type(exc).__name__})") from None


# --- the loader ---------------------------------------------------------------------------------


def slt_dir() -> Path:
    """The shared slt folder: ``<data>/phoenix14t/slt-annotations`` (may not exist)."""
    return data_dir() / "phoenix14t" / "slt-annotations"


def slt_file(split: str, folder: str | Path | None = None) -> Path:
    """The pickle of ``split`` in ``folder`` (default :func:`slt_dir`): ``phoenix14t.{split}`` or
    slt's ``phoenix14t.pami0.{split}``.

    Raises:
        InputError: unknown split, or neither file exists.
    """
    if split not in SPLITS:
        raise InputError(f"unknown slt split {split!r}; known: {', '.join(SPLITS)} (or give a file path)")
    folder = Path(folder) if folder is not None else slt_dir()
    for name in (f"phoenix14t.{split}", f"phoenix14t.pami0.{split}"):
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"no slt pickle for split {split!r} in {folder} "
                     f"(expected phoenix14t.{split}; set SIGNSTUDIO_DATA)")


def _as_str(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise InputError(f"{where}: field {key!r} is missing or not text")
    return value


def _example(entry, where: str) -> SltExample:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: not a dict of name/signer/gloss/text")
    name = _as_str(entry, "name", where)
    where = f"{where} ({name})"
    features = entry.get("sign")
    if features is not None:
        if not isinstance(features, np.ndarray):
            raise InputError(f"{where}: 'sign' is not a tensor")
        if features.size == 0:
            features = None
        elif features.ndim != 2:
            raise InputError(f"{where}: 'sign' features must be (T, D), got shape {features.shape}")
        else:
            features = features.astype(np.float32, copy=False)
    num_frames = entry.get("num_frames")
    if num_frames is None:
        num_frames = features.shape[0] if features is not None else 0
    if not isinstance(num_frames, int) or num_frames < 0:
        raise InputError(f"{where}: 'num_frames' is not a frame count")
    alignments, streams = None, ()
    raw = entry.get("alignments")
    if raw:
        if not isinstance(raw, dict):
            raise InputError(f"{where}: 'alignments' is not a dict of streams")
        streams = tuple(sorted(raw))
        texts = [str(raw[k]) for k in streams]
        lengths = [len(t.split()) for t in texts] if not num_frames else [num_frames] * len(texts)
        with warnings.catch_warnings():  # numpy warns (and stops) at a token that is not a number
            warnings.simplefilter("ignore", DeprecationWarning)
            values = np.fromstring(" ".join(texts), dtype=np.int32, sep=" ")
        if values.size != sum(lengths) or len(set(lengths)) != 1:
            for k, t in zip(streams, texts):
                n = len(t.split())
                if n != (num_frames or lengths[0]):
                    raise InputError(f"{where}: alignment {k!r} has {n} frames, the video {num_frames or lengths[0]}")
            raise InputError(f"{where}: the alignments are not lists of integers")
        alignments = values.reshape(len(streams), -1).T.copy()
        num_frames = num_frames or alignments.shape[0]
    return SltExample(name=name, signer=str(entry.get("signer", "")),
                      glosses=_as_str(entry, "gloss", where).split(), text=_as_str(entry, "text", where).strip(),
                      num_frames=num_frames, alignments=alignments, features=features, alignment_streams=streams)


def load_slt(path_or_split: str | Path, folder: str | Path | None = None) -> list[SltExample]:
    """Load one slt pickle: a split name (``"train"``, ``"dev"``, ``"test"``, found by
    :func:`slt_file` in ``folder`` or the shared data) or the path of a pickle file.

    Gzip'd (slt's own) and plain pickles are both read, with :class:`RestrictedUnpickler`.

    Returns:
        The examples in file order (7096 / 519 / 642 for the shared PHOENIX-2014-T files).

    Raises:
        InputError: missing file, not gzip/pickle, a global other than torch's tensor rebuild
            (the pickle is refused, nothing in it runs), or entries that are not slt dicts.
    """
    if isinstance(path_or_split, str) and path_or_split in SPLITS:
        path = slt_file(path_or_split, folder)
    else:
        path = Path(path_or_split)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, ValueError) as exc:
            raise InputError(f"{path}: broken gzip data ({type(exc).__name__})") from None
    entries = restricted_loads(data, str(path))
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected a list of examples, got {type(entries).__name__}")
    if not entries:
        raise InputError(f"{path}: the file holds no examples")
    return [_example(e, f"{path}[{i}]") for i, e in enumerate(entries)]
