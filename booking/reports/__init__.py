"""Statistics for the steering group: figures per office, operator and city, from facts that
survive the privacy purge, as accessible SVG charts, tables and CSV downloads."""
