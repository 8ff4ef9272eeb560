"""Standing: a member's scores as members and partners read them, and online rescoring."""
