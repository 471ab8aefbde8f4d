"""Retention: personal data of families is erased on schedule (SGB X, GDPR Art. 5 (1) e)."""
