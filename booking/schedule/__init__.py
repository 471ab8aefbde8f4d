"""Weekly hours, open consultation hours and (later) absences, closures and the slot engine."""
