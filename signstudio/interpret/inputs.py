"""Checks made before recording attention, so that a bad request fails before any slow work:
the model can be recorded (:func:`check_recordable`), ``--layer``/``--head`` exist
(:func:`check_layer_head`), and a text input is a sentence of UTF-8 text (:func:`read_text_file`).
The window and ``signstudio attention`` call the same functions."""

from __future__ import annotations

from pathlib import Path

from signstudio.errors import InputError, ModelError

#: Model types whose attention can be recorded.
SUPPORTED_TYPES = ("signformer", "text-transformer", "spatiotemporal", "spamo")


def check_recordable(loaded) -> None:
    """Refuse, before any slow work, a model whose attention cannot be recorded.

    Raises:
        ModelError: a model type without encoder-decoder attention, a Signformer without a
            translation decoder (CTC only), or one whose features this version cannot compute.
    """
    if loaded.model_type not in SUPPORTED_TYPES:
        raise ModelError(f"model {loaded.name!r} is a {loaded.model_type} model; attention can be recorded for "
                         f"{', '.join(SUPPORTED_TYPES)} models")
    if loaded.model_type == "signformer":
        from signstudio.runtime.clip import check_feature_spec

        check_feature_spec(loaded.features, loaded.name)
        if not getattr(loaded.model, "has_decoder", False) or loaded.text_vocab is None:
            raise ModelError(f"model {loaded.name!r} has no translation decoder (CTC only): "
                             "there is no cross-attention to record")


def check_layer_head(loaded, layer: int, head: int | None = None) -> None:
    """Refuse, before any slow work, a decoder ``layer`` or attention ``head`` the model lacks.

    Args:
        loaded: a recordable :class:`~signstudio.runtime.checkpoint.LoadedModel` (see
            :func:`check_recordable`).
        layer: decoder layer index; negative counts from the last (``-1``: the last).
        head: an attention head ``0 .. H-1``, or None (the mean of the heads).

    Raises:
        InputError: ``--layer``/``--head`` out of range (the message gives the model's counts).
    """
    shape = getattr(loaded.model, "attention_shape", None)  # SpaMo: its LLM's layers and heads
    layers = shape()[0] if shape else len(getattr(loaded.model, "decoder", None) or ())
    if not -layers <= layer < layers:
        raise InputError(f"--layer {layer}: model {loaded.name!r} has {layers} decoder layer(s) "
                         f"(0-{layers - 1}, or -1 for the last)")
    heads = shape()[1] if shape else int(loaded.model.config.num_heads)
    if head is not None and not 0 <= head < heads:
        raise InputError(f"--head {head}: model {loaded.name!r} has {heads} heads (0-{heads - 1})")


#: Largest text file read as one sentence (bytes).
MAX_TEXT_FILE_BYTES = 1024 ** 2


def read_text_file(path: str | Path) -> str:
    """A UTF-8 text file's content (one sentence for a text model).

    Raises:
        InputError: missing or unreadable file, larger than :data:`MAX_TEXT_FILE_BYTES`, not
            UTF-8, or binary (it holds NUL bytes).
    """
    from signstudio.files import check_input_file

    shown = str(path)
    path = check_input_file(path, "text file")
    if path.stat().st_size > MAX_TEXT_FILE_BYTES:
        raise InputError(f"{shown}: {path.stat().st_size:,} bytes is too large for one sentence "
                         f"(the limit is {MAX_TEXT_FILE_BYTES:,})")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{shown}: not a readable UTF-8 text file ({type(exc).__name__})") from None
    if "\0" in text:
        raise InputError(f"{shown}: a binary file (it holds NUL bytes), not a text file")
    return text
