"""The ledger: event catalogue, ingestion, file import and lake export."""
