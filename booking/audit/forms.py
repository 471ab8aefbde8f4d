"""The audit search: by person (staff account), record (type and id), action and period."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, Regexp

from booking.audit.models import AuditEvent
from booking.core.converters import CalendarDateField
from booking.schedule.services import local_day_bounds


class AuditSearchForm(FlaskForm):
    """From the query string (GET: no CSRF token); choices are set by the view."""

    class Meta:
        csrf = False

    actor = SelectField(_l("Person (staff account)"), choices=[], default="")
    object_type = SelectField(_l("Kind of record"), choices=[], default="")
    object_id = StringField(
        _l("Record number"),
        validators=[
            Optional(),
            Length(max=64),
            Regexp(r"^[0-9A-Za-z_-]+$", message=_l("Please enter the number of the record.")),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    action = SelectField(_l("Action"), choices=[], default="")
    first = CalendarDateField(_l("From"), validators=[Optional()])
    last = CalendarDateField(_l("Until"), validators=[Optional()])

    def check(self) -> bool:
        """Validate the fields and the period (an empty form is valid: every entry)."""
        if not self.validate():
            return False
        if self.first.data and self.last.data and self.first.data > self.last.data:
            self.last.errors = [*self.last.errors, _l("The end must not be before the start.")]
            return False
        if self.object_id.data and not self.object_type.data:
            self.object_type.errors = [
                *self.object_type.errors,
                _l("Please choose the kind of record for a record number."),
            ]
            return False
        return True

    def query(self, now: datetime) -> Select:
        """The matching entries, newest first (call after check())."""
        query = select(AuditEvent)
        if self.actor.data:
            query = query.where(AuditEvent.actor_id == int(self.actor.data))
        if self.object_type.data:
            query = query.where(AuditEvent.object_type == self.object_type.data)
        if self.object_id.data:
            query = query.where(AuditEvent.object_id == self.object_id.data)
        if self.action.data:
            query = query.where(AuditEvent.action == self.action.data)
        if self.first.data or self.last.data:
            first = self.first.data or self.last.data
            last = self.last.data or now.date()
            start, end = local_day_bounds(first, max(first, last))
            if self.first.data:
                query = query.where(AuditEvent.at >= start)
            if self.last.data:
                query = query.where(AuditEvent.at < end)
        return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
