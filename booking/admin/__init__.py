"""Administration: offices, services, staff accounts and the audit trail."""
