"""The waiting list: families waiting for a suitable time of a booked-out service get it
offered, and held for them, when one frees up."""
