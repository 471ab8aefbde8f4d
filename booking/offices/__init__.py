"""Offices (the § 35a unit, the Welcome Points) and the services families can book there."""
