"""The one email rule through SCIM ``POST /Users``: a look-alike is refused, and an address
that exists already is a conflict, never that account.
"""

from __future__ import annotations

from typing import Any

from tests.support.confusable_emails import TARGETS
from tests.support.email_rule import EXPECTED, REFUSED, through_every_case
from tests.support.scim import Scim, okta_user, scim_error


def test_scim_creates_no_look_alike_and_names_no_existing_account(
    look_alike_targets: Any, scim: Scim
) -> None:
    def scim_create(sent: str) -> str:
        response = scim.post("Users", okta_user(sent))
        status, kind = scim_error(response)  # an existing address is a conflict, never that account
        if (status, kind) == (409, "uniqueness"):
            return next(email for email in TARGETS if email.lower() == sent.strip().lower())
        assert (status, kind) == (400, "invalidValue"), (sent, response.content)
        return REFUSED

    assert through_every_case(scim_create) == EXPECTED
