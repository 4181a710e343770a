"""Search settings of a text model on dev: beam size, GNMT length penalty and n-gram blocking.

    python benchmarks/text_search_ablation.py MODEL [MODEL ...] [--split dev]

Decodes the dev split (never test) of each text-to-gloss or gloss-to-text model's dataset
greedily, with beam 4 and every length penalty the recipe tries
(:data:`signstudio.training.recipes.text.LENGTH_PENALTIES`), with beam 8 and penalties 1.0 and
3.0, all without blocking; then with n-gram blocking 1, 2 and 3 at the best of those. It prints BLEU-4 (sacrebleu, 13a), slt's BLEU-4, ROUGE-L and the mean output
length against the references' — the decoder ablation of issue 15 (the recipe tunes only the
length penalty and one blocking size; this shows the whole grid).
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="installed model names or checkpoint folders")
    parser.add_argument("--split", default="dev", choices=("dev", "train"))
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.text import TextTranslator, model_text_splits, score, translate_tokens
    from signstudio.training.recipes.text import LENGTH_PENALTIES

    for name in args.models:
        loaded = load_installed(name)
        tr = TextTranslator(loaded)  # ModelError for a model that is not a text transformer
        pairs = model_text_splits(loaded)[args.split]
        sources = [tr.source_tokens(p.source) for p in pairs]
        refs = [p.target for p in pairs]
        ref_len = sum(map(len, refs)) / len(refs)
        print(f"\n{loaded.name}: {args.split}, n={len(pairs)}, reference length {ref_len:.2f} tokens; "
              f"stored search: beam {tr.decoding.beam_size}, alpha {tr.decoding.length_penalty}, "
              f"blocking {tr.decoding.no_repeat_ngram}")
        print(f"{'beam':>4s} {'alpha':>5s} {'block':>5s} {'BLEU-4':>7s} {'slt':>7s} {'ROUGE-L':>8s} {'length':>7s} "
              f"{'s':>6s}")
        def run(beam: int, alpha: float, block: int) -> float:
            t0 = time.perf_counter()
            hyps = translate_tokens(tr.net, sources, tr.src_vocab, tr.tgt_vocab, tr.bos, beam, alpha,
                                    no_repeat_ngram=block)
            hyps = [tr.output_tokens(h) for h in hyps]
            s = score(refs, hyps)
            print(f"{beam:4d} {alpha:5.1f} {block:5d} {s['bleu4']:7.2f} {s['bleu4_slt']:7.2f} {s['rouge_l']:8.2f} "
                  f"{sum(map(len, hyps)) / len(hyps):7.2f} {time.perf_counter() - t0:6.1f}", flush=True)
            return s["bleu4"]

        grid = [(1, 1.0)] + [(4, alpha) for alpha in LENGTH_PENALTIES] + [(8, 1.0), (8, 3.0)]
        best = max(grid, key=lambda g: run(*g, 0))
        for block in (1, 2, 3):
            run(*best, block)

if __name__ == "__main__":
    main()
