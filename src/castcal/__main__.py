"""The ``castcal`` command and ``python -m castcal``."""

import gc


def run() -> None:
    # A build keeps a few hundred thousand objects alive until it ends (models, rendered
    # pieces) and makes almost no reference cycles. With the default threshold the cycle
    # collector walks them over and over; every 200,000 allocations costs no memory to
    # speak of (mypy does the same for the same reason).
    gc.set_threshold(200_000, 30, 30)
    from castcal.cli import main

    main()


if __name__ == "__main__":
    run()
