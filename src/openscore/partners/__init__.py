"""Partners: the businesses that report events and ask about members' standing."""
