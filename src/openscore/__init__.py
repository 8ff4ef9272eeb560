"""OpenScore: an open, explainable, consent-based credit and trust scoring platform."""

__version__ = "0.1.0"
