"""What the API keeps for safe retries (booking.api.idempotency)."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.db import UTCDateTime, utcnow
from booking.extensions import db

# A retry within this time gets the first answer again; then the answer is forgotten.
KEEP_ANSWERS_FOR = timedelta(hours=24)


class IdempotentAnswer(db.Model):
    """The first successful answer to a request that carried an Idempotency-Key."""

    __tablename__ = "api_idempotent_answer"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(40))  # the endpoint: a key counts per endpoint
    key: Mapped[str] = mapped_column(sa.String(64))
    # sha256 of method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text)  # the JSON answer without its manage token
    # The manage token of the answer, sealed (booking.core.sealed); never readable here.
    sealed_manage_token: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
