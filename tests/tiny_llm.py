"""Tiny randomly initialised Hugging Face language models in a folder, for SpaMo's tests: a
decoder-only Gemma-3 and a seq2seq T5 with a few layers, sharing a word-level tokenizer built
here (nothing downloads)."""

from __future__ import annotations

from pathlib import Path

WORDS = ("translate the given sentence into english german book drink computer before go chair who "
         "candy deaf fine help no thin walk year yes all black cool finish hot like many mother now "
         "orange table thanksgiving what want woman = .").split()


def _tokenizer(folder: Path, specials: dict[str, str]):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate([*specials.values(), "<unk>", *WORDS])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", **specials)
    tok.save_pretrained(folder)
    return tok


def tiny_causal(folder: Path, seed: int = 0) -> Path:
    """A 2-layer Gemma-3 text model (width 32) in ``folder``."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    folder.mkdir(parents=True, exist_ok=True)
    tok = _tokenizer(folder, {"pad_token": "<pad>", "bos_token": "<bos>", "eos_token": "<eos>"})
    torch.manual_seed(seed)
    config = Gemma3TextConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=256,
                              sliding_window=64, initializer_range=0.3, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                              eos_token_id=tok.eos_token_id)
    Gemma3ForCausalLM(config).save_pretrained(folder)
    return folder


def tiny_seq2seq(folder: Path, seed: int = 0) -> Path:
    """A 1+1-layer T5 (width 32) in ``folder``."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    tok = _tokenizer(folder, {"pad_token": "<pad>", "eos_token": "</s>"})
    torch.manual_seed(seed)
    config = T5Config(vocab_size=len(tok), d_model=32, d_kv=16, d_ff=64, num_layers=1, num_decoder_layers=1,
                      num_heads=2, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      decoder_start_token_id=tok.pad_token_id)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    return folder
