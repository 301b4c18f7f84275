"""Email addresses that look like, or fold to, those of real users.

Each entry: the address a portal forwards, and the account it may reach (None: none).
Exact matching means ASCII case is ignored and nothing else is: PostgreSQL's UPPER()
under a UTF-8 locale folds the dotless i and the long s to ASCII, and Python's
str.lower() the Kelvin sign, which is how an address a user can choose reached someone
else's account.
"""

from __future__ import annotations

TARGETS = (
    "alice@example.com",
    "kim@example.com",
    "sam@example.com",
    "ina@example.com",
    "uma@example.co.uk",
    "jeff@example.com",
    "strasse@example.com",
    "ana@xn--bcher-kva.example",  # bücher.example in the one form the rule stores
)

CASES: tuple[tuple[str, str | None], ...] = (
    ("alice@example.com", "alice@example.com"),
    ("ALICE@EXAMPLE.COM", "alice@example.com"),
    ("  Alice@Example.Com ", "alice@example.com"),
    ("al\u0131ce@example.com", None),  # dotless i: PostgreSQL UPPER() gives ALICE
    ("AL\u0130CE@EXAMPLE.COM", None),  # capital I with dot
    ("\u212aim@example.com", None),  # Kelvin sign: str.lower() gives kim
    ("\u017fam@example.com", None),  # long s: UPPER() gives SAM
    ("\u0131na@example.com", None),  # dotless i at the start
    ("\u0430lice@example.com", None),  # Cyrillic a
    ("\uff41lice@example.com", None),  # fullwidth a
    ("alice@exampl\u0435.com", None),  # Cyrillic e in the domain
    ("alice@example.co\u1d0d", None),  # small capital M
    ("a\u0300lice@example.com", None),  # a combining accent
    ("alice@example.com.", None),  # a trailing dot
    ("alice@example.com\u00a0", None),  # no-break space is not white space we ignore
    ("uma@example.co.u\u212a", None),  # Kelvin sign in the domain: Django lowercases it to k
    ("je\ufb00@example.com", None),  # the ff ligature: NFKC gives jeff
    ("stra\u00dfe@example.com", None),  # sharp s: case folding gives strasse
    ("STRASSE@EXAMPLE.COM", "strasse@example.com"),  # plain ASCII case
    ("alice@\uff45xample.com", None),  # fullwidth e in the domain: NFKC gives example
    ("jos\u00e9@example.com", None),  # NFC: a precomposed accent
    ("jose\u0301@example.com", None),  # NFD: the same letter, decomposed
    ("ali\u200bce@example.com", None),  # a zero-width space
    ("\u00a0alice@example.com", None),  # a leading no-break space
    ("ana@b\u00fccher.example", None),  # an internationalized domain in Unicode: IDNA gives xn--
    ("ana@XN--BCHER-KVA.EXAMPLE", "ana@xn--bcher-kva.example"),  # its punycode, any ASCII case
    ("a@evil.test@example.com", None),  # two @: the domain check once took the last
    ("kim@example.com@", None),  # an empty domain after a second @
    ("@example.com", None),  # no local part
)
