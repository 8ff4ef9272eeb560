"""Attestations: signed, expiring statements of a member's standing, and their keys."""
