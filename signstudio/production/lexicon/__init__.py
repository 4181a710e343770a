"""Lexicon-based sign language production: glosses -> real recorded signs, stitched into one pose.

This is the pipeline of spoken-to-signed (sign.mt; Moryossef et al. 2023, "An Open-Source
Gloss-Based Baseline for Spoken to Signed Language Translation"), run step by step so that we know
which frames of the result sign which gloss:

1. look every ``(word, gloss)`` up in the user's lexicons (in order), else fingerspell the word
   letter by letter from the package's fingerspelling lexicon (``FingerspellingPoseLookup``);
2. ``reduce_holistic`` (MediaPipe Holistic -> 178 points: 8 body, 128 face contour, 2 x 21 hands)
   and resample every sign to one frame rate;
3. ``normalize_pose``: shoulders centred at the origin, mean shoulder width 1, per sign;
4. ``process_sign``: trim to the active signing span (wrist above elbow), cap a sign's duration
   (0.8 s; for a fingerspelled word 0.8 s per letter: the library's ``gloss_to_pose`` caps a whole
   spelled word at 0.8 s, which makes a long word unreadable);
5. ``smooth_concatenate_poses``: join each pair at the closest frames, insert ``0.07 s`` of
   interpolated padding, low-pass filter the seams (Butterworth; Walsh et al., BMVC 2024,
   "Sign Stitching");
6. ``correct_wrists``, ``normalize_pose_size`` (shoulder width 204.8, the signer inside a
   512 x 512 canvas) and ``hide_lowered_hands``.

A lexicon is a folder in spoken-to-signed's format: ``index.csv`` with the columns
``path,spoken_language,signed_language,start,end,words,glosses,priority`` (``start``/``end`` in
milliseconds, ``end`` 0 = the whole file; lower ``priority`` wins) plus the ``.pose`` files it names,
recorded with MediaPipe Holistic.

Every call into spoken-to-signed runs under ``contextlib.redirect_stdout``: the library prints
progress ("Reducing poses...") that would otherwise corrupt the CLI's ``--json`` output.

The package's modules: :mod:`~signstudio.production.lexicon.index` (``index.csv``: reading,
checking, writing one for a folder), :mod:`~signstudio.production.lexicon.lookup` (a loaded
:class:`Lexicon`), :mod:`~signstudio.production.lexicon.fingerspelling`,
:mod:`~signstudio.production.lexicon.stitching` (pose concatenation) and
:mod:`~signstudio.production.lexicon.producing` (:func:`produce_from_lexicon`);
:mod:`~signstudio.production.lexicon.base` holds what they share. Every public name is
importable from ``signstudio.production.lexicon``.
"""

from signstudio.production.lexicon.base import (
    HOLISTIC_BODY_POINTS,
    HOLISTIC_COMPONENTS,
    MAX_GLOSSES,
    MAX_SIGN_SECONDS,
    PADDING_SECONDS,
    check_holistic,
    check_recording,
)
from signstudio.production.lexicon.fingerspelling import (
    alphabet,
    fingerspell,
    fingerspelling_text,
    missing_letters,
    spell,
)
from signstudio.production.lexicon.index import (
    INDEX_FORMAT,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    LexiconEntry,
    check_recording_file,
    gloss_from_filename,
    index_folder,
    read_index,
)
from signstudio.production.lexicon.lookup import Lexicon, LexiconMatch, fingerspelling_lexicon, load_lexicon
from signstudio.production.lexicon.producing import produce_from_lexicon
from signstudio.production.lexicon.stitching import stitch

__all__ = [
    "HOLISTIC_BODY_POINTS", "HOLISTIC_COMPONENTS", "INDEX_FORMAT", "MAX_GLOSSES", "MAX_SIGN_SECONDS",
    "OPTIONAL_COLUMNS", "PADDING_SECONDS", "REQUIRED_COLUMNS", "Lexicon", "LexiconEntry", "LexiconMatch",
    "alphabet", "check_holistic", "check_recording", "check_recording_file", "fingerspell",
    "fingerspelling_lexicon", "fingerspelling_text", "gloss_from_filename", "index_folder", "load_lexicon",
    "missing_letters", "produce_from_lexicon", "read_index", "spell", "stitch",
]
