"""``python -m openscore`` runs the command line."""

from openscore.cli import app

# The guard matters: the ledger's reader process is spawned, and spawning re-imports the
# main module, which must not run the command line a second time.
if __name__ == "__main__":
    app()
