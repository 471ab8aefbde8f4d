"""Cross-cutting pieces: access rules, errors, security headers, locale, health check."""
