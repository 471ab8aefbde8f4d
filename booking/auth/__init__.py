"""Staff accounts, roles, login and server-side session control."""
