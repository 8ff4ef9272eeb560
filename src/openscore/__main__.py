"""The command line's entry point: ``openscore`` and ``python -m openscore``."""

from openscore.api.allocator import run_tuned


def main() -> None:
    """Run the command line; the commands that serve run with the allocator tuned for online
    rescoring (``openscore.api.allocator``), before anything heavy is imported."""
    run_tuned()
    from openscore.cli import app

    app()


# The guard matters: the ledger's reader process is spawned, and spawning re-imports the
# main module, which must not run the command line a second time.
if __name__ == "__main__":
    main()
