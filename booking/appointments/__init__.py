"""Appointments: the booked time of one family with one caseworker, and its edit log."""
