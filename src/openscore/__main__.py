"""``python -m openscore`` runs the command line."""

from openscore.cli import app

app()
