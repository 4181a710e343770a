"""``signstudio gui`` and ``signstudio models``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from dataclasses import asdict

from signstudio.errors import SignStudioError


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the desktop window (the only command that loads Qt)."""
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        raise SignStudioError("no display found: the window needs a desktop session (or xvfb-run); "
                              "the other commands work without one, see `signstudio --help`")
    # Imported by name at run time so that no headless command ever loads Qt.
    app = importlib.import_module("signstudio.gui.app")
    return app.run([sys.argv[0]])


def cmd_models(args: argparse.Namespace) -> int:
    """List installed models (the user's and the shipped ones) and, with --presets, the presets."""
    from signstudio.paths import user_models_dir
    from signstudio.runtime.installed import list_models

    models = [{k: v for k, v in asdict(m).items() if k != "features"} for m in list_models()]
    presets = []
    if args.presets:
        from signstudio.models.registry import PRESETS, preset_parameter_counts

        presets = [{"name": n, "task": "preset", "path": None, "parameters": c, "metrics": {},
                    "model_type": PRESETS[n][0], "origin": "preset"} for n, c in preset_parameter_counts().items()]
    if args.json:
        print(json.dumps(models + presets))
        return 0
    if not models:
        print("no models installed (train one with `signstudio train CONFIG.yaml`)")
    for m in models + presets:
        metrics = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                            for k, v in m["metrics"].items() if isinstance(v, (int, float)))
        print(f"{m['name']:<24} {m['task']:<13} {m['origin']:<7} {m['parameters']:>10,} parameters  {metrics[:80]}")
    if any(m["origin"] == "user" for m in models):
        print(f"(user models are in {user_models_dir()})")
    return 0


def register(add) -> None:
    """Add ``gui`` and ``models`` to the parser (``add(name, func, help)``)."""
    add("gui", cmd_gui, "open the SignStudio window (the default)")

    sp = add("models", cmd_models, "list installed models (yours and the shipped ones) with their size and metrics")
    sp.add_argument("--presets", action="store_true", help="also list architecture presets with parameter counts")
    sp.add_argument("--json", action="store_true", help="print a JSON list")
