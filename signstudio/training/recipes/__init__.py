"""The training recipes, one per model family (see :class:`signstudio.training.recipe.Recipe`).

- :mod:`~signstudio.training.recipes.sign2text`: Signformer and SignAttention's baseline (poses -> glosses/text).
- :mod:`~signstudio.training.recipes.text`: text-to-gloss and gloss-to-text transformers.
- :mod:`~signstudio.training.recipes.signllm`: SignLLM gloss-to-pose, with the RL loss and Priority Learning Channel.
"""
