"""Accounts: users and roles, passwords, login sessions, CSRF, API tokens, login throttling."""
