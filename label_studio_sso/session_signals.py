"""What starts and ends sessions in Label Studio itself, as Django signals.

- Any login (ours or Label Studio's password form) records the user's stamp in the new
  session and routes it to the backend that loads the stamp with the user.
- Label Studio's own logout ends every session of that user: a signed-cookie session
  cannot be ended alone, and a copy of the cookie must not outlive the logout.
- Deactivating a user, or removing them from an organization (Label Studio's "delete
  member"), ends every session of theirs, so an account switched back on later does not
  bring old sessions back.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.http import HttpRequest

from . import audit
from .sessions import end_every_session, ends_every_session, stamp_session

DISPATCH_PREFIX = "label_studio_sso.session_signals."


def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        stamp_session(request, user)


def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None and user.pk is not None and ends_every_session(request):
        end_every_session(user)
        audit.sessions_ended(user_id=user.pk, cause="logout")


def on_user_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if not instance.is_active and (update_fields is None or "is_active" in update_fields):
        end_every_session(instance)
        audit.sessions_ended(user_id=instance.pk, cause="deactivated")


def on_member_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.deleted_at is not None and (update_fields is None or "deleted_at" in update_fields):
        end_every_session(instance.user)
        audit.sessions_ended(user_id=instance.user_id, cause="member-removed")


def connect() -> None:
    """Connect every receiver once (called from the app's ``ready``)."""
    user_logged_in.connect(on_login, dispatch_uid=DISPATCH_PREFIX + "login")
    user_logged_out.connect(on_logout, dispatch_uid=DISPATCH_PREFIX + "logout")
    post_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid=DISPATCH_PREFIX + "user")
    if apps.is_installed("organizations"):
        member = apps.get_model("organizations", "OrganizationMember")
        post_save.connect(on_member_saved, sender=member, dispatch_uid=DISPATCH_PREFIX + "member")
