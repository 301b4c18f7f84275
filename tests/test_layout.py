"""The package's arrows point one way: ways in import the core, never each other; the core
imports no way in, except the modules Django and 6.x settings find by name, which assemble them."""

from __future__ import annotations

import ast

from tests.support.repository import REPO

PACKAGE = REPO / "label_studio_sso"
WAYS_IN = frozenset({"portal", "portal_signed", "oidc", "proxy", "scim", "saml"})
# apps.py, checks.py, management/ and templatetags/ are where Django looks; backends.py,
# middleware.py and urls.py are the paths 6.x settings name.
ASSEMBLY = frozenset({"apps", "backends", "checks", "middleware", "urls", "management", "templatetags"})


def imported_packages(source: str, here: list[str]) -> set[str]:
    """The first component, inside label_studio_sso, of every relative import in ``source``
    (a module in the folder ``here``, a path inside the package)."""
    targets = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level + 1]
            if node.module:
                targets.add((base + node.module.split("."))[0])
            else:
                targets.update([*base, alias.name][0] for alias in node.names)
    return targets


def wrong_arrows() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        home = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if home in ASSEMBLY:
            continue
        source, here = path.read_text(encoding="utf-8"), list(path.relative_to(PACKAGE).parts[:-1])
        for target in imported_packages(source, here) & WAYS_IN - {home}:
            found.append(f"{path.relative_to(PACKAGE)} imports {target}/")
    return found


def test_no_way_in_imports_another_and_the_core_imports_none() -> None:
    assert wrong_arrows() == []


def test_the_check_sees_an_arrow_the_wrong_way() -> None:
    assert imported_packages("from ..portal.tokens import x\n", ["oidc"]) == {"portal"}
    assert imported_packages("from .scim import views\n", []) == {"scim"}
    assert imported_packages("from .. import conf, scim\n", ["oidc"]) == {"conf", "scim"}
    assert imported_packages("from .tokens import x\n", ["portal"]) == {"portal"}


# Folders of the package that are no way in: the core's own parts and what Django looks for.
CORE_FOLDERS = frozenset({"container", "guards", "migrations", "templates"})


def test_every_folder_of_the_package_is_a_way_in_or_named_as_core() -> None:
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders - CORE_FOLDERS - ASSEMBLY == WAYS_IN


def test_every_way_in_has_a_tests_folder_holding_the_one_email_rule() -> None:
    """A new way in (SAML, LDAP) gets its folder of tests, and the look-alike corpus through it."""
    missing = [way for way in sorted(WAYS_IN) if not (REPO / "tests" / way / "test_email_rule.py").is_file()]
    assert missing == []
