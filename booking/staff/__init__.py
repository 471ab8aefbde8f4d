"""Staff home: the offices a caseworker or receptionist works for, with their hours."""
