"""Rights: consent grants, partner-scoped pseudonyms and the access log."""
