import pytest

from booking.extensions import limiter


@pytest.fixture(autouse=True)
def fresh_rate_limit_storage():
    """The limiter object is shared by every app of the test process: a storage marked dead
    (and its in-memory fallback counters) must not outlive the test that broke it."""

    def reset() -> None:
        limiter._storage_dead = False
        # When to look for the storage again (a frozen clock in 2027 would postpone it).
        limiter._Limiter__last_check_backend = 0.0
        limiter._Limiter__check_backend_count = 0
        if limiter._fallback_storage is not None:
            limiter._fallback_storage.reset()

    reset()
    yield
    reset()
