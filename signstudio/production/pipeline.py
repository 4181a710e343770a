"""Produce: text -> glosses -> pose sequence, by recorded signs or by a learned SignLLM model.

The path the ``signstudio produce`` command and the Produce tab share:

1. **Text to glosses** (:func:`gloss_text`): an installed text-to-gloss model for the sign
   language (e.g. ``phoenix14t-text2gloss`` for DGS, Prompt2LangGloss tags) when there is one;
   otherwise spoken-to-signed's lemmatising glosser (simplemma), which keeps the word order (for
   ASL without the articles and the copula, :mod:`signstudio.production.asl`). The result says
   how reliable it is: the text's language against the sign language's
   (:mod:`signstudio.production.langcheck`) and, for a model, its out-of-vocabulary rate and
   confidence (:mod:`signstudio.runtime.reliability`). Warn, don't invent: out-of-domain input is
   produced with warnings, or refused with ``strict`` (:class:`~signstudio.errors.OutOfDomainError`).
2. **Glosses to pose** (:func:`produce`): ``lexicon`` stitches real recorded signs from the user's
   lexicon folders and fingerspells the rest (:mod:`signstudio.production.lexicon`); ``model``
   generates a skeleton with an installed SignLLM gloss-to-pose model for that language.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache

from signstudio.errors import InputError, ModelError, OutOfDomainError
from signstudio.languages import SignLanguage, get_language
from signstudio.production.types import Glossing, Production
from signstudio.tasks import NullTask, TaskHandle, check_cancelled

METHODS = ("auto", "lexicon", "model")
#: Longest text accepted (characters); longer input gets a clear error instead of minutes of work.
MAX_TEXT_CHARS = 1000
#: PHOENIX glosses that mark the signer's hands going up/down, not signs.
NON_SIGNS = {"__ON__", "__OFF__", "__EMOTION__", "__PU__", "__LEFTHAND__"}


def _check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InputError("nothing to sign: the text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"too long: {len(text)} characters (the limit is {MAX_TEXT_CHARS}); "
                         "split the text into shorter sentences")
    return text


def installed_model(task: str, language: SignLanguage) -> str | None:
    """Path of the first installed model of ``task`` (``text-to-gloss``, ``gloss-to-pose``) for
    ``language``, or None."""
    from signstudio.runtime.installed import list_models

    for m in list_models(task):
        if language.code in m.language.split(","):
            return m.path
    return None


@lru_cache(maxsize=4)
def _text_translator(path: str, mtime: float, backend: str):
    """``(TextTranslator, notes)`` of a checkpoint, kept while the file is unchanged."""
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.text import TextTranslator

    notes: list[str] = []
    return TextTranslator(load_installed(path, None, backend, notes)), tuple(notes)


@lru_cache(maxsize=4)
def _pose_producer(path: str, mtime: float, backend: str):
    """``(PoseProducer, notes)`` of a checkpoint, kept while the file is unchanged."""
    from signstudio.runtime.producer import load_signllm

    notes: list[str] = []
    return load_signllm(path, backend, notes), tuple(notes)


#: The name the rule-based glosser goes by in notes and JSON.
RULE_BASED = "rule-based glosser (simplemma lemmas)"


def gloss_text(text: str, language: str | SignLanguage, *, model: str | None = None,
               backend: str = "auto") -> Glossing:
    """Gloss ``text`` for ``language`` and say how reliable the glosses are.

    Args:
        text: spoken-language text (at most :data:`MAX_TEXT_CHARS` characters).
        language: the target sign language (code, abbreviation or :class:`SignLanguage`).
        model: a text-to-gloss checkpoint path; default: an installed one for the language, else
            the rule-based glosser.
        backend: what runs the model (see :func:`~signstudio.runtime.installed.load_installed`):
            "auto" runs its ONNX export when there is an up-to-date one.

    Returns:
        a :class:`~signstudio.production.types.Glossing`: the ``(word, gloss)`` pairs, who glossed
        them, the language check, a model's reliability, and (ASL) the words left out.

    Raises:
        InputError: empty or too-long text, unknown language.
    """
    from signstudio.production.langcheck import check_language

    lang = get_language(language)
    text = _check_text(text)
    check = check_language(text, lang)
    path = model or installed_model("text-to-gloss", lang)
    if path:
        translator, _ = _text_translator(str(path), os.path.getmtime(path), backend)
        out = translator.translate_checked(text)
        glosses = [g for g in out.tokens if g not in NON_SIGNS and not g.startswith("<")]
        return Glossing(text, lang.code, [(g.lower(), g) for g in glosses], translator.loaded.name,
                        out.reliability, check)
    with _quiet_stdout():
        from spoken_to_signed.text_to_gloss.simple import text_to_gloss

        sentences = text_to_gloss(text, lang.spoken)
    items = [(w, g.upper()) for s in sentences for w, g in s if re.search(r"\w", w or "")]
    dropped: list[str] = []
    if lang.code == "ase":
        from signstudio.production.asl import asl_items

        items, dropped = asl_items(items)
    return Glossing(text, lang.code, items, RULE_BASED, None, check, dropped)


def text_to_gloss_items(text: str, language: str | SignLanguage, *, model: str | None = None
                        ) -> tuple[list[tuple[str, str]], str]:
    """``(word, gloss)`` pairs for ``text`` and the name of what glossed it (see :func:`gloss_text`).

    Raises:
        InputError: empty or too-long text, unknown language.
    """
    glossing = gloss_text(text, language, model=model)
    return glossing.items, glossing.glosser


def text_to_glosses(text: str, language: str | SignLanguage, *, model: str | None = None) -> list[str]:
    """The glosses for ``text`` in ``language`` (see :func:`gloss_text`)."""
    return gloss_text(text, language, model=model).glosses


def available_methods(language: str | SignLanguage) -> list[str]:
    """Production methods usable for ``language``: ``lexicon`` always, ``model`` when a SignLLM
    gloss-to-pose model for it is installed."""
    lang = get_language(language)
    return ["lexicon"] + (["model"] if installed_model("gloss-to-pose", lang) else [])


def produce(text: str | None, language: str | SignLanguage, *, glosses: Sequence[str] | None = None,
            method: str = "auto", lexicons: Sequence[str | os.PathLike] = (),
            model: str | None = None, use_cache: bool = True, strict: bool = False,
            backend: str = "auto", task: TaskHandle | None = None) -> Production:
    """Sign ``text`` (or the given ``glosses``) in ``language``.

    Args:
        text: spoken-language text; ignored when ``glosses`` is given.
        language: sign language code, abbreviation or name (``"ase"``, ``"asl"``, ``"dgs"``).
        glosses: glosses to sign as they are (e.g. edited by the user), skipping text-to-gloss.
        method: ``"lexicon"`` (recorded signs + fingerspelling), ``"model"`` (SignLLM), or
            ``"auto"`` (lexicon).
        lexicons: user lexicon folders (``index.csv`` + ``.pose``), searched before fingerspelling.
        model: a SignLLM checkpoint for ``method="model"`` (default: the installed one).
        use_cache: decode the SignLLM model with its KV cache.
        backend: what runs the models (see :func:`~signstudio.runtime.installed.load_installed`);
            "auto" runs their ONNX exports where they are up to date, else PyTorch (said in ``notes``).
        strict: refuse text whose glossing needs the user's confirmation (not in the sign
            language's spoken language, or outside the glossing model's domain) instead of
            producing it with warnings.
        task: progress and cancellation.

    Returns:
        a :class:`Production`; its ``notes`` say how the text was glossed, its ``glossing`` how
        reliable that is and its ``warnings`` what the user should know.

    Raises:
        OutOfDomainError: ``strict`` and the glossing needs confirmation (its ``warnings`` say why).
        InputError: empty or too-long input, unknown language or method, an unsignable word.
        ModelError: ``method="model"`` with no SignLLM model for the language.
        Cancelled: the task was cancelled.
    """
    task = task or NullTask()
    lang = get_language(language)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    notes: list[str] = []
    glossing = None
    if glosses is not None:
        items = [(g.lower(), g) for g in glosses if g.strip()]
        if not items:
            raise InputError("nothing to sign: no glosses given")
    else:
        task.set_status("glossing the text")
        glossing = gloss_text(text or "", lang, backend=backend)
        items = glossing.items
        notes.append(glossing.summary())
        if strict and glossing.needs_confirmation:
            raise OutOfDomainError("not produced: " + "; ".join(glossing.warnings), glossing.warnings,
                                   glossing.summary())
        if not items:
            left = f" ({', '.join(glossing.dropped)} {'is' if len(glossing.dropped) == 1 else 'are'} " \
                   f"not signed in {lang.abbreviation})" if glossing.dropped else ""
            raise InputError(f"nothing to sign: the text has no words{left}")
    check_cancelled(task)
    if method == "model":
        production = _produce_with_model(items, lang, model, use_cache, backend, task)
    else:
        from signstudio.production.lexicon import produce_from_lexicon

        task.set_status(f"signing {len(items)} glosses from the lexicon")
        production = produce_from_lexicon(items, lang, lexicons, task=task)
    production.notes[:0] = notes
    production.glossing = glossing
    return production


def _produce_with_model(items: Sequence[tuple[str, str]], lang: SignLanguage, model: str | None,
                        use_cache: bool, backend: str, task: TaskHandle) -> Production:
    from signstudio.production.lexicon import MAX_GLOSSES

    if len(items) > MAX_GLOSSES:
        raise InputError(f"too long: {len(items)} glosses (the limit is {MAX_GLOSSES}); "
                         "split the text into shorter sentences")
    path = model or installed_model("gloss-to-pose", lang)
    if not path:
        raise ModelError(f"no gloss-to-pose (SignLLM) model for {lang.abbreviation} is installed; "
                         "use the lexicon method or train one with `signstudio train`")
    producer, notes = _pose_producer(str(path), os.path.getmtime(path), backend)
    glosses = [g for _, g in items]
    task.set_status(f"generating {len(glosses)} glosses with {producer.name}")
    production = model_production(producer, glosses, lang.code, use_cache=use_cache)
    check_cancelled(task)
    runner = "onnxruntime" if producer.backend == "onnx" else "PyTorch"
    production.notes[:0] = [f"generated by {producer.name} (SignLLM, run by {runner}); gloss boundaries "
                            "are approximate", *notes]
    return production


def model_production(producer, glosses: list[str], language: str | None = None, **kwargs) -> Production:
    """A :class:`~signstudio.runtime.producer.PoseProducer`'s output as a :class:`Production`: a
    pose-format ``Pose`` in the 50-joint skeleton layout, one ``"model"`` segment per gloss.

    ``kwargs`` go to :meth:`~signstudio.runtime.producer.PoseProducer.produce`.

    Raises:
        ModelError: as ``produce`` (unknown language, no glosses).
    """
    from signstudio.pose.skeletons import skels_to_pose
    from signstudio.production.types import Segment

    language = language or producer.languages[0]
    out = producer.produce(glosses, language, **kwargs)
    segments = [Segment(g, s, e, "model") for g, (s, e) in zip(glosses, out.spans)]
    return Production(pose=skels_to_pose(out.frames, producer.fps), glosses=list(glosses), segments=segments,
                      language=language, notes=list(out.notes))


class _quiet_stdout:
    """Silence a library's progress prints (so ``--json`` output stays one object)."""

    def __enter__(self):
        import contextlib
        import io

        self._ctx = contextlib.redirect_stdout(io.StringIO())
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
