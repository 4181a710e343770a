"""Model architectures, built from typed configs through :mod:`signstudio.models.registry`."""
