"""Opening an ``.npz`` a user hands us without trusting it: sizes are capped before anything is
decompressed, and the JSON header of an attention record is checked field by field.

An ``.npz`` is a zip of ``.npy`` members; a few kilobytes of zip can declare gigabytes of array
(a "zip bomb"), and NumPy allocates what a member's ``.npy`` header declares before reading it.
:func:`check_npz_sizes` reads only the zip directory and each member's ``.npy`` header.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from signstudio.errors import InputError

#: Most bytes all arrays of one record may unpack to (1 GiB).
MAX_NPZ_BYTES = 1024 ** 3


def _npy_header(f) -> tuple[tuple[int, ...], np.dtype]:
    """``(shape, dtype)`` from the ``.npy`` header at the start of the open member ``f``."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(f)
    else:
        raise ValueError(f".npy format {version}")
    return tuple(int(d) for d in shape), np.dtype(dtype)


def check_npz_sizes(path: str | Path, name: str, limit: int = MAX_NPZ_BYTES) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Check an ``.npz`` before loading it: what it declares must fit in ``limit`` bytes.

    Reads the zip directory (declared uncompressed sizes) and the ``.npy`` header of every
    member, nothing else.

    Args:
        path: the ``.npz`` file. name: how messages name it.
        limit: most bytes the members may declare, in total (default :data:`MAX_NPZ_BYTES`).

    Returns:
        ``{array name: (shape, dtype)}`` for every ``.npy`` member (the name without ``.npy``).

    Raises:
        InputError: not a zip; members that declare more than ``limit`` bytes in total; a member
            whose ``.npy`` header is unreadable, holds Python objects, or declares more data than
            the member holds.
    """
    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(max(0, i.file_size) for i in infos)
            if total > limit:
                raise InputError(f"{name}: its arrays would unpack to {total / 1024 ** 2:,.0f} MB "
                                 f"(the limit is {limit / 1024 ** 2:,.0f} MB); refusing to load it")
            for info in infos:
                if not info.filename.endswith(".npy"):
                    continue
                key = info.filename[:-4]
                with zf.open(info) as f:
                    try:
                        shape, dtype = _npy_header(f)
                    except (ValueError, OSError, EOFError, SyntaxError) as exc:
                        raise InputError(f"{name}: array {key} has an unreadable header ({exc})") from None
                if dtype.hasobject:
                    raise InputError(f"{name}: array {key} holds Python objects; refusing to load it")
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > info.file_size:
                    raise InputError(f"{name}: array {key} declares {shape} ({nbytes:,} bytes) but its "
                                     f"member holds {info.file_size:,} bytes")
                out[key] = (shape, dtype)
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise InputError(f"{name}: not a readable .npz file ({type(exc).__name__})") from None
    return out


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_record_header(header: Any, name: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    """Check the JSON header of an attention record field by field (format and version aside).

    Args:
        header: the parsed JSON. name: how messages name the file.
        kinds: the array kinds whose ``shapes`` must be listed.

    Returns:
        The header with optional fields filled in: ``decoder_inputs``/``source_tokens`` ``[]``,
        ``fps`` 0.0, ``model``/``model_type``/``input``/``decoding`` ``""``, ``has_frame_times``
        False.

    Raises:
        InputError: ``"NAME: the record's header field 'F' is missing"`` or ``"... is not ..."``
            for ``tokens`` (a list of strings), ``shapes`` (per kind a list of 3 non-negative
            whole numbers per layer), ``decoder_inputs``/``source_tokens`` (lists of strings),
            ``fps`` (a finite number >= 0), the text fields and ``has_frame_times`` (true/false).
    """
    def bad(field: str, what: str) -> InputError:
        return InputError(f"{name}: the record's header field {field!r} {what}")

    if not isinstance(header, dict):
        raise InputError(f"{name}: the record's header is not a JSON object")
    out = dict(header)
    if "tokens" not in header:
        raise bad("tokens", "is missing")
    if not _strings(header["tokens"]):
        raise bad("tokens", "is not a list of strings")
    shapes = header.get("shapes")
    if shapes is None:
        raise bad("shapes", "is missing")
    if not isinstance(shapes, dict):
        raise bad("shapes", "is not an object of array shapes")
    for kind in kinds:
        layers = shapes.get(kind)
        if not isinstance(layers, list):
            raise bad("shapes", f"has no list for {kind!r}")
        for shape in layers:
            if (not isinstance(shape, list) or len(shape) != 3
                    or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
                raise bad("shapes", f"has {shape!r} for {kind!r}, not 3 whole numbers")
    for field in ("decoder_inputs", "source_tokens"):
        out[field] = header.get(field, [])
        if not _strings(out[field]):
            raise bad(field, "is not a list of strings")
    fps = header.get("fps", 0.0)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps < 0:
        raise bad("fps", f"is {fps!r}, not a number >= 0")
    out["fps"] = float(fps)
    for field in ("model", "model_type", "input", "decoding"):
        out[field] = header.get(field, "")
        if not isinstance(out[field], str):
            raise bad(field, "is not a string")
    out["has_frame_times"] = header.get("has_frame_times", False)
    if not isinstance(out["has_frame_times"], bool):
        raise bad("has_frame_times", "is not true or false")
    return out
