"""The ``castcal`` command and ``python -m castcal``."""

import gc
import os


def run() -> None:
    # Pydantic looks for plugins (validation observers) by scanning every installed
    # package's entry points the first time it builds a validator: 60 ms of every build
    # that validates a changed file. castcal uses none (to load them anyway, set
    # PYDANTIC_DISABLE_PLUGINS to an empty value).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
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
