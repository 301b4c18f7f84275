"""The one email rule: which identity emails are accepted, and the one form matched and stored.

Every way in (the token API, OpenID Connect, gateway headers and assertions, portal-signed
tokens, SCIM) hands the email it was given to ``accepted_email`` before anything looks a
user up or creates one, so an address is judged the same way whoever carried it.

The rule is Label Studio's own sign-up form's (Django's EmailValidator), made strict where
that validator leaves room for two spellings of one address:

- surrounding ASCII white space is removed; nothing else is changed before judging;
- ASCII only. A local part of RFC 5322 atoms (letters, digits, ``!#$%&'*+/=?^_`{|}~-``)
  joined by single dots, at most 64 characters; no quoted local parts. A domain of at least
  two labels of letters, digits and inner hyphens (1-63 characters each), whose last label
  is not all digits: no IP literals, no trailing dot. An internationalized domain is
  accepted in its ASCII (punycode, ``xn--``) form and refused in Unicode, so one domain has
  one spelling. At most 254 characters in all;
- matched with ASCII letters in any case (``accounts``), and stored with ASCII letters in
  lower case (``stored_email``).

Why refuse rather than normalize: every normalization a library applies (Unicode NFKC,
case folding, IDNA mapping) makes look-alikes — a fullwidth e (U+FF45), the Kelvin sign, the
long s (U+017F), a dotless i (U+0131), an NFD accent — into someone else's address, and Django's
``normalize_email`` lowercases domains with ``str.lower`` (Kelvin sign to ``k``), so the
address stored would differ from the one checked. An ASCII address has no such forms: the
stored form is what Django, Label Studio and the database keep, byte for byte.
"""

from __future__ import annotations

import re

SURROUNDING_SPACE = " \t\r\n"  # ASCII only: a no-break space is part of the address (and refused)
MAX_EMAIL_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
MAX_LOCAL_LENGTH = 64

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class InvalidEmail(ValueError):
    """The text is not one address the email rule accepts (it is never part of the message)."""


def accepted_email(value: object) -> str:
    """The address as it is matched (surrounding space removed), or InvalidEmail."""
    if not isinstance(value, str):
        raise InvalidEmail("not text")
    email = value.strip(SURROUNDING_SPACE)
    if not email.isascii() or len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("not ASCII, or too long")
    local, at, domain = email.partition("@")
    if not at or "@" in domain:
        raise InvalidEmail("not exactly one @")
    if len(local) > MAX_LOCAL_LENGTH or not _LOCAL_PART.fullmatch(local):
        raise InvalidEmail("not a local part")
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidEmail("not a domain")
    return email


def stored_email(email: str) -> str:
    """The form a created or renamed user's email is stored in: accepted, ASCII letters in lower case.

    One stored case lets the user table's unique email stop two concurrent first logins
    spelled ``Alice@`` and ``alice@`` from making two users.
    """
    return accepted_email(email).lower()  # ASCII only, so lower() changes A-Z and nothing else


def domain_of(email: str) -> str:
    """The domain of a stored-form address (what SSO_ALLOWED_EMAIL_DOMAINS is checked against)."""
    return stored_email(email).rpartition("@")[2]
