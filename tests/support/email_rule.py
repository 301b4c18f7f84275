"""The one email rule, held through every way in: each way in's ``test_email_rule.py`` sends
the whole look-alike corpus (``confusable_emails``) and expects each address either to reach
the account whose address it is in ASCII case, or to be refused as ``invalid-email`` with
nothing created. The accounts aimed at are the root conftest's ``look_alike_targets``.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.support.confusable_emails import CASES

REFUSED = "invalid-email"
EXPECTED = {sent: reaches or REFUSED for sent, reaches in CASES}


def user_emails() -> list[str]:
    from users.models import User

    return sorted(User.objects.values_list("email", flat=True))


def through_every_case(way_in: Callable[[str], str]) -> dict[str, str]:
    """``way_in(sent)``: the email of the user it landed in, or the reason it was refused."""
    before = user_emails()
    reached = {sent: way_in(sent) for sent, _ in CASES}
    assert user_emails() == before, "a look-alike created a user"
    return reached
