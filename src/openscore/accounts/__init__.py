"""Accounts: members' passwords and sessions; API keys of partners, operators, auditors."""
