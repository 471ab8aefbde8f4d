"""Statistics pages: per office, per operator (Office.operator) and city-wide, with CSV files.

Who sees what: admins everything; other staff a page whose offices are all their own (an
office of theirs; an operator only when every office of it is theirs). Downloads are audited.
"""

import re
import unicodedata
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from booking.audit.services import record_event
from booking.auth.models import Role
from booking.core.access import admin_required, me, reports_required
from booking.core.scope import report_offices, sees_every_office
from booking.core.transactions import writes
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.reports.csvfile import csv_bytes
from booking.reports.facts import appointment_facts, callback_facts, queue_facts
from booking.reports.forms import PeriodForm
from booking.reports.stats import Period, compute, neighbour_months
from booking.reports.tables import TABLE_KEYS, Table, build_tables

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.record_once
def _setup(state) -> None:
    from booking import templating

    templating.LABELS["audit_action"]["reports.exported"] = _l("statistics downloaded (CSV)")
    # The navigation's label lives here: base.html's own strings go to the families' catalogs.
    state.app.jinja_env.globals["REPORTS_LABEL"] = _l("Statistics")


@dataclass
class Scope:
    kind: str  # city | operator | office
    slug: str | None
    title: str
    offices: list[Office]

    def url(self, csv: bool = False, **args) -> str:
        endpoint = f"reports.{self.kind}{'_csv' if csv else ''}"
        if self.slug is not None:
            args["slug"] = self.slug
        return url_for(endpoint, **args)


def operator_slug(name: str) -> str:
    """An operator's name as a path segment: ASCII, lower case ("Caritas für" → "caritas-fur")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "operator"


def all_offices() -> list[Office]:
    return list(db.session.scalars(select(Office).order_by(Office.name)))


def operators() -> dict[str, str]:
    """slug → operator name, from Office.operator (the operator boundary of issue 12)."""
    return {operator_slug(office.operator): office.operator for office in all_offices()}


def may_see(offices: list[Office]) -> bool:
    """Admins all; others only figures whose every office is one of their own (an operator
    admin: of its operator)."""
    if sees_every_office(me()):
        return True
    mine = {office.id for office in report_offices(me())}
    return bool(offices) and all(office.id in mine for office in offices)


def city_scope() -> Scope:
    if me().role != Role.ADMIN:
        abort(403)
    return Scope("city", None, str(_l("City-wide")), all_offices())


def operator_scope(slug: str) -> Scope:
    name = operators().get(slug) or abort(404)
    offices = [office for office in all_offices() if office.operator == name]
    if not may_see(offices):
        abort(403)
    return Scope("operator", slug, name, offices)


def office_scope(slug: str) -> Scope:
    office = db.session.scalar(select(Office).where(Office.slug == slug)) or abort(404)
    if not may_see([office]):
        abort(403)
    return Scope("office", slug, office.name, [office])


def tables_for(scope: Scope, period: Period) -> list[Table]:
    ids = [office.id for office in scope.offices]
    figures = compute(
        period,
        utcnow(),
        appointment_facts(ids, period),
        queue_facts(ids, period),
        callback_facts(ids, period),
    )
    office_names = {office.id: office.name for office in scope.offices}
    service_names = {}
    quotas = {}
    for service in db.session.scalars(select(Service).where(Service.office_id.in_(ids))):
        # The same service name at two offices: say which.
        suffix = f" ({office_names[service.office_id]})" if len(ids) > 1 else ""
        service_names[service.id] = service.name + suffix
        if service.phone_quota_percent:
            quotas[service.id] = service.phone_quota_percent
    return build_tables(figures, service_names, office_names, period.months(), quotas)


def render_page(scope: Scope):
    form = PeriodForm(request.args)
    period = form.period(utcnow())
    tables = tables_for(scope, period) if period is not None else []
    months = neighbour_months(period, utcnow()) if period is not None else (None, None)
    args = {"first": period.first.isoformat(), "last": period.last.isoformat()} if period else {}
    return render_template(
        "reports/page.html",
        scope=scope,
        form=form,
        period=period,
        tables=tables,
        csv_url=lambda key: scope.url(csv=True, table=key, **args),
        months=[
            (label, scope.url(first=month.first.isoformat(), last=month.last.isoformat()))
            for label, month in zip((_l("Month before"), _l("Month after")), months, strict=True)
            if month is not None
        ],
    ), (200 if period is not None else 400)


def download(scope: Scope):
    key = request.args.get("table", "")
    if key not in TABLE_KEYS:
        abort(404)
    form = PeriodForm(request.args)
    period = form.period(utcnow())
    if period is None:
        return render_page(scope)
    table = next((t for t in tables_for(scope, period) if t.key == key), None) or abort(404)
    record_event(
        "reports.exported",
        actor=me(),
        obj=scope.offices[0] if scope.kind == "office" else None,
        detail=f"{scope.kind} {scope.slug or ''} {key} {period.first}..{period.last}",
    )
    filename = f"statistik-{scope.slug or 'stadt'}-{key}-{period.first}-{period.last}.csv"
    return Response(
        csv_bytes(table.columns, table.csv_rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/")
@reports_required
def index():
    admin = sees_every_office(me())
    offices = all_offices() if admin else report_offices(me())
    names = operators()
    visible_operators = [
        (slug, name)
        for slug, name in sorted(names.items(), key=lambda item: item[1])
        if may_see([office for office in all_offices() if office.operator == name])
    ]
    return render_template(
        "reports/index.html", admin=admin, offices=offices, operators=visible_operators
    )


@bp.route("/city")
@admin_required
def city():
    return render_page(city_scope())


@bp.route("/city.csv")
@admin_required
@writes
def city_csv():
    return download(city_scope())


@bp.route("/operator/<slug>")
@reports_required
def operator(slug: str):
    return render_page(operator_scope(slug))


@bp.route("/operator/<slug>.csv")
@reports_required
@writes
def operator_csv(slug: str):
    return download(operator_scope(slug))


@bp.route("/office/<slug>")
@reports_required
def office(slug: str):
    return render_page(office_scope(slug))


@bp.route("/office/<slug>.csv")
@reports_required
@writes
def office_csv(slug: str):
    return download(office_scope(slug))
