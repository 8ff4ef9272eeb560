"""The one-command demo: a simulated city, ingested, scored and served (or checked)."""
