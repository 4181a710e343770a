"""The runtime: everything a user's model run needs, and nothing of training.

- :mod:`~signstudio.runtime.checkpoint`: reading and writing ``model.pt`` (a model rebuilds from it alone).
- :mod:`~signstudio.runtime.installed`: the installed models (the user's and the shipped ones) by name.
- :mod:`~signstudio.runtime.clip`: the one entry from a video or `.pose` file to model input.
- :mod:`~signstudio.runtime.sign2text`: sign-to-text translation (CTC with the gloss LM, beam search).
- :mod:`~signstudio.runtime.text`: text-to-gloss and gloss-to-text translation.
- :mod:`~signstudio.runtime.producer`: gloss-to-pose production with SignLLM (counter decoding).
- :mod:`~signstudio.runtime.evaluate`: scoring a model on a split of the data it was trained on.

:mod:`signstudio.training` builds on these modules; an import-linter layers contract keeps the
runtime from ever importing it.
"""
