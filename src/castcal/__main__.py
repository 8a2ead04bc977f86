"""The ``castcal`` command and ``python -m castcal``."""

import gc
import importlib
import os
import sys
import types
from typing import Any

# Pydantic's module that finds plugins (validation observers) in installed packages.
PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_plugin_discovery() -> None:
    """Pydantic looks for plugins the first time it builds a validator: it imports
    importlib.metadata (40 ms: email, zipfile, csv) and scans every installed package's
    entry points (20 ms), in every build that validates a changed file. castcal uses no
    plugins. Unless PYDANTIC_DISABLE_PLUGINS is already set (an empty value loads them),
    plugins are turned off, and Pydantic is handed a loader that finds none without
    importing anything; any other name asked of it comes from Pydantic's own module."""
    if "PYDANTIC_DISABLE_PLUGINS" in os.environ or PLUGIN_LOADER in sys.modules:
        return
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    loader = types.ModuleType(PLUGIN_LOADER)

    def get_plugins() -> tuple[()]:
        return ()

    def __getattr__(name: str) -> Any:  # noqa: N807 (a module's __getattr__, PEP 562)
        if name.startswith("__"):  # what the import system asks of any module
            raise AttributeError(name)
        del sys.modules[PLUGIN_LOADER]
        return getattr(importlib.import_module(PLUGIN_LOADER), name)

    loader.get_plugins = get_plugins  # type: ignore[attr-defined]
    loader.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PLUGIN_LOADER] = loader


def run() -> None:
    _no_plugin_discovery()
    # A build makes a few hundred thousand objects that live until it ends (models, rendered
    # pieces) and almost no reference cycles. With the default threshold the cycle collector
    # walks them over and over (a third of a one-change build's time at 1,000 episodes);
    # collecting every 200,000 allocations instead costs no memory to speak of (mypy does
    # the same for the same reason).
    gc.set_threshold(200_000, 30, 30)
    from castcal.cli import main

    main()


if __name__ == "__main__":
    run()
