"""The team: accounts added, re-roled, disabled and given a new password by an instance admin (the team page
and `staff add`). Accounts scoped to events act only there (StaffEventRole)."""

import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import Event
from ..core.validation import choice, refuse_unknown, require, text
from .auth import reset_password, set_active, set_event_roles
from .models import ROLES, StaffUser


def new_password():
    return secrets.token_urlsafe(12)


def owner_of(staff):
    """What an area says this account is (a paired scanner phone is managed on the devices page), or None
    for a person's account."""
    for describe in current_app.extensions.get("staff_account_owners", ()):
        said = describe(staff)
        if said:
            return said
    return None


def account_owner(app, describe):
    """An area names accounts it manages itself: describe(staff) -> a label, or None."""
    owners = app.extensions.setdefault("staff_account_owners", [])
    if describe not in owners:
        owners.append(describe)


def accounts():
    """[(account, owner label or None)] by name."""
    users = db.session.execute(select(StaffUser).order_by(func.lower(StaffUser.name))).scalars().all()
    return [(user, owner_of(user)) for user in users]


def parse_account(data, creating):
    refuse_unknown(data, {"name", "role", "events"})
    require(data, ["name", "role"] if creating else ["role"])
    clean = {"role": choice(data, "role", ROLES)}
    if creating:
        clean["name"] = text(data, "name", 80, squash_spaces=True)
    slugs = data.get("events", [])
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise DomainError("invalid", _("Veranstaltungen als Liste von Kurznamen."), field="events")
    events = db.session.execute(select(Event).where(Event.slug.in_(slugs))).scalars().all() if slugs else []
    unknown = set(slugs) - {e.slug for e in events}
    if unknown:
        raise DomainError(
            "invalid", _("Unbekannte Veranstaltung: %(slugs)s", slugs=", ".join(sorted(unknown))), field="events"
        )
    clean["events"] = events
    return clean


def _other_instance_admins(staff):
    return [
        u
        for u in db.session.execute(
            select(StaffUser).where(StaffUser.active.is_(True), StaffUser.id != staff.id)
        ).scalars()
        if u.is_admin
    ]


def _refuse_losing_the_last_admin(staff, still_admin):
    if staff.is_admin and not still_admin and not _other_instance_admins(staff):
        raise DomainError(
            "conflict",
            _("Mindestens ein Konto muss Administrator für alle Veranstaltungen bleiben."),
            409,
            field="role",
        )


def save_account(name, role, events, password=None):
    """Create an account or change role, events and password of the one of that name. Returns (account,
    created, password); the password is made when none is given (shown once). Commits."""
    user = db.session.execute(select(StaffUser).filter_by(name=name)).scalar_one_or_none()
    created = user is None
    password = password or new_password()
    if created:
        if db.session.scalar(select(func.count(StaffUser.id)).where(func.lower(StaffUser.name) == name.lower())):
            raise DomainError("conflict", _("Diesen Namen trägt schon ein Konto."), 409, field="name")
        user = StaffUser(name=name)
        db.session.add(user)
        user.set_password(password)
    else:
        if owner_of(user):
            raise DomainError(
                "conflict", _("Dieses Konto gehört einem Scanner-Gerät; es wird auf der Geräteseite verwaltet."), 409
            )
        _refuse_losing_the_last_admin(user, role == "admin" and not events)
        reset_password(user, password)  # a new password ends every login of the account
    user.role = role
    set_event_roles(user, events, role)
    db.session.commit()
    return user, created, password


def change_role(staff, role, events):
    """New role and events; the logins stay (the next request is checked against the new rights). Commits."""
    if owner_of(staff):
        raise DomainError(
            "conflict", _("Dieses Konto gehört einem Scanner-Gerät; es wird auf der Geräteseite verwaltet."), 409
        )
    _refuse_losing_the_last_admin(staff, role == "admin" and not events)
    staff.role = role
    set_event_roles(staff, events, role)
    db.session.commit()


def disable(staff, by):
    if staff.id == by.id:
        raise DomainError("conflict", _("Das eigene Konto lässt sich hier nicht abschalten."), 409)
    _refuse_losing_the_last_admin(staff, False)
    set_active(staff, False)


def give_new_password(staff):
    """A new random password (shown once to the admin); every login of the account ends. Commits."""
    if owner_of(staff):
        raise DomainError(
            "conflict", _("Dieses Konto gehört einem Scanner-Gerät; es wird auf der Geräteseite verwaltet."), 409
        )
    password = new_password()
    reset_password(staff, password)
    db.session.commit()
    return password
