"""Family self-booking: no account, no JavaScript needed, manage link to cancel or move."""
