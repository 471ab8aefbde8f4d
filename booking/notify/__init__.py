"""Messages to families and staff through an outbox: written with the change, sent after."""
