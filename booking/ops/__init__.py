"""Running the app in production: readiness, metrics, request ids and structured logs, backups."""
