"""Offices, services, staff and hours set up from a TOML file (`flask --app wsgi setup load`)."""
