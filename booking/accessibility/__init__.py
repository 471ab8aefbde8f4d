"""Accessibility: feedback on barriers from the statement page, kept for admins and purged."""
