"""Which training recipe a model type uses: the recipe its registry entry names.

Kept apart from :mod:`signstudio.training.recipe` and :mod:`signstudio.training.config` so that
the config (which validates a family's sections) and the recipes (which use the config's
classes) need not import each other.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from signstudio.errors import ConfigError

if TYPE_CHECKING:
    from signstudio.training.recipe import Recipe


def recipe_class(model_type: str) -> "type[Recipe]":
    """The recipe a model type's registry entry names.

    Raises:
        ConfigError: unknown model type, or an entry whose recipe cannot be imported.
    """
    from signstudio.models.registry import REGISTRY

    if model_type not in REGISTRY:
        raise ConfigError(f"unknown model type {model_type!r}; known: {', '.join(sorted(REGISTRY))}")
    module, _, name = REGISTRY[model_type].recipe.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"model type {model_type!r}: its training recipe {module}:{name} is missing ({exc})") from None
    return cls
