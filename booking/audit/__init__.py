"""Audit trail of staff actions and access (SGB X: who did what, when)."""
