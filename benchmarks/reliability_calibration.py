"""Calibrate "warn, don't invent": how reliability and the language check look on real input.

    python benchmarks/reliability_calibration.py [--english 300]

Prints, for the shipped PHOENIX-2014-T text models (``phoenix14t-text2gloss``,
``phoenix14t-gloss2text``) and the thresholds in :mod:`signstudio.runtime.reliability`, the
distribution (min / 5th / median / 95th / max) of the out-of-vocabulary rate and the confidence,
and the share of inputs flagged as out of domain, on:

- in domain: the PHOENIX-2014-T test sentences (German text) and their glosses;
- out of domain: English sentences (How2Sign val, the first ``--english``), German sentences off
  the weather (:data:`GERMAN_OFF_DOMAIN`, a self-introduction and daily life, written for this
  check), and real ASL gloss sentences (RWTH-BOSTON-104) into the German gloss-to-text model.

Then the language check (:mod:`signstudio.production.langcheck`): PHOENIX German for DGS and
How2Sign English for ASL (false alarms), and swapped (caught mismatches).

The numbers in the two modules' docstrings come from this script.
"""

from __future__ import annotations

import argparse
import csv
import time

import numpy as np

#: German sentences outside the weather domain (written for this check, not from a corpus).
GERMAN_OFF_DOMAIN = [
    "Hallo, ich heiße Anna.", "Guten Morgen", "Ich wohne in Berlin und arbeite als Lehrerin.",
    "Wie geht es dir?", "Mein Name ist Peter und ich bin zwanzig Jahre alt.", "Ich mag Bücher.",
    "Das Haus ist groß.", "Wo ist die Bibliothek?", "Ich habe zwei Kinder und einen Hund.",
    "Kannst du mir bitte helfen?", "Meine Mutter kocht heute Abend Spaghetti.", "Ich lerne Gebärdensprache.",
    "Der Zug nach München hat Verspätung.", "Wir treffen uns morgen um acht Uhr im Café.",
    "Ich bin gehörlos und benutze die Deutsche Gebärdensprache.", "Danke schön, auf Wiedersehen!",
    "Das Essen war sehr lecker.", "Mein Bruder spielt gern Fußball.", "Ich habe Kopfschmerzen und gehe zum Arzt.",
    "Die Katze schläft auf dem Sofa.",
]


def lines(path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def boston_sentences(folder) -> list[str]:
    """RWTH-BOSTON-104's sentences as space-separated ASL glosses, from its word files."""
    videos: dict[str, list[str]] = {}
    for name in ("train_words.csv", "test_words.csv"):
        with open(folder / name, newline="") as f:
            for row in csv.DictReader(f):
                videos.setdefault(row["video"], []).append(row["word"])
    return [" ".join(v) for v in videos.values()]


def percentiles(values) -> str:
    return " / ".join(f"{v:.2f}" for v in np.percentile(values, [0, 5, 50, 95, 100]))


def reliability_table(name: str, translator, texts: list[str]) -> None:
    t0 = time.perf_counter()
    rel = [translator.translate_checked(t).reliability for t in texts]
    oov = np.array([r.oov_rate for r in rel])
    conf = np.array([r.confidence for r in rel])
    flagged = sum(not r.in_domain for r in rel)
    print(f"{name:<44} n={len(texts):<4} OOV {percentiles(oov)} | confidence {percentiles(conf)} | "
          f"flagged {flagged}/{len(texts)} ({flagged / len(texts):.1%}) [{time.perf_counter() - t0:.0f} s]")


def language_table(name: str, texts: list[str], language: str, mismatched: bool) -> None:
    """Flag rate; examples of the wrong calls (false alarms, or missed mismatches)."""
    from signstudio.production.langcheck import check_language

    flags = [check_language(t, language).mismatch for t in texts]
    wrong = [t for t, f in zip(texts, flags) if f != mismatched]
    print(f"{name:<44} n={len(texts):<4} flagged {sum(flags)}/{len(texts)} ({sum(flags) / len(texts):.1%})"
          + (f"  {'missed' if mismatched else 'false alarms'}, e.g. {wrong[:3]}" if wrong else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--english", type=int, default=300, help="How2Sign val sentences for the model tables")
    args = parser.parse_args()

    import torch

    from signstudio.paths import data_dir
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.reliability import MAX_OOV_RATE, MIN_CONFIDENCE
    from signstudio.runtime.text import TextTranslator

    torch.set_num_threads(1)
    data = data_dir()
    german = lines(data / "phoenix14t/annotations/test.de")
    glosses = lines(data / "phoenix14t/annotations/test.gloss")
    english = lines(data / "how2sign/val.text")
    asl = boston_sentences(data / "boston104")

    print(f"thresholds: in domain = OOV rate <= {MAX_OOV_RATE} and confidence >= {MIN_CONFIDENCE}; "
          "percentiles min / 5 / 50 / 95 / max")
    t2g = TextTranslator(load_installed("phoenix14t-text2gloss"))
    reliability_table("text2gloss  PHOENIX-2014-T test (German)", t2g, german)
    reliability_table("text2gloss  German off the weather", t2g, GERMAN_OFF_DOMAIN)
    reliability_table("text2gloss  English (How2Sign val)", t2g, english[: args.english])
    g2t = TextTranslator(load_installed("phoenix14t-gloss2text"))
    reliability_table("gloss2text  PHOENIX-2014-T test glosses", g2t, glosses)
    reliability_table("gloss2text  ASL glosses (RWTH-BOSTON-104)", g2t, asl)

    print("\nlanguage check (mismatch flagged):")
    language_table("PHOENIX-2014-T test German, for DGS", german, "dgs", False)
    language_table("How2Sign val English, for ASL", english, "asl", False)
    language_table("German off the weather, for DGS", GERMAN_OFF_DOMAIN, "dgs", False)
    language_table("PHOENIX-2014-T test German, for ASL", german, "asl", True)
    language_table("How2Sign val English, for DGS", english, "dgs", True)
    language_table("German off the weather, for ASL", GERMAN_OFF_DOMAIN, "asl", True)


if __name__ == "__main__":
    main()
