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
    """Open the desktop window (the only command that loads Qt), with ``args.file`` (a video or
    `.pose` file, checked first) translated in the Translate tab."""
    extra = []
    if getattr(args, "file", None):
        from signstudio.files import check_input_file

        extra = [str(check_input_file(args.file, "video or .pose file"))]
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        raise SignStudioError("no display found: the window needs a desktop session (or xvfb-run); "
                              "the other commands work without one, see `signstudio --help`")
    # Imported by name at run time so that no headless command ever loads Qt.
    app = importlib.import_module("signstudio.gui.app")
    return app.run([sys.argv[0], *extra])


def _headline(metrics: dict) -> str:
    """The scores worth a glance: test scores if recorded, else dev ones (counts left out)."""
    scalar = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
              and not k.endswith("_n") and k not in ("epoch", "parameters")}
    chosen = {k: v for k, v in scalar.items() if k.startswith("test_")} or \
        {k: v for k, v in scalar.items() if k.startswith("dev_")}
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) and abs(v) < 10 else f"{k} {v:.4g}"
                     for k, v in chosen.items())


def cmd_models(args: argparse.Namespace) -> int:
    """List installed models (the user's and the shipped ones), what each is for, its size and
    scores; with --presets, the architecture presets."""
    from signstudio.paths import user_models_dir
    from signstudio.runtime.installed import DEFAULT_MODEL, list_models

    infos = list_models()
    models = [{**{k: v for k, v in asdict(m).items() if k != "features"}, "purpose": m.purpose,
               "default": m.name == DEFAULT_MODEL} for m in infos]
    presets = []
    if args.presets:
        from signstudio.models.registry import PRESETS, preset_parameter_counts

        presets = [{"name": n, "task": "preset", "path": None, "parameters": c, "metrics": {},
                    "model_type": PRESETS[n][0], "origin": "preset", "purpose": f"{PRESETS[n][0]} architecture"}
                   for n, c in preset_parameter_counts().items()]
    if args.json:
        print(json.dumps(models + presets))
        return 0
    if not models:
        print("no models installed (train one with `signstudio train CONFIG.yaml`)")
    for m in models + presets:
        mark = "*" if m.get("default") else " "
        print(f"{mark}{m['name']:<24} {m['origin']:<7} {m['purpose']:<44} {m['parameters']:>10,} parameters  "
              f"{_headline(m['metrics'])[:70]}")
    if models:
        print(f"(* the default for translate and live; user models are in {user_models_dir()})")
    return 0


def register(add) -> None:
    """Add ``gui`` and ``models`` to the parser (``add(name, func, help)``)."""
    sp = add("gui", cmd_gui, "open the SignStudio window (the default); `signstudio FILE` opens it with FILE")
    sp.add_argument("file", nargs="?", help="a video or .pose file to translate when the window opens")

    sp = add("models", cmd_models, "list installed models (yours and the shipped ones) with their size and metrics")
    sp.add_argument("--presets", action="store_true", help="also list architecture presets with parameter counts")
    sp.add_argument("--json", action="store_true", help="print a JSON list")
