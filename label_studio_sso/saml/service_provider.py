"""Label Studio as python3-saml sees it: our entity id and URLs, keys, and the security policy.

The policy is strict mode with every check python3-saml offers that a standard provider
passes: schema validation, a signed response or assertion from a certificate in the
provider's metadata, SHA-1 refused (``rejectDeprecatedAlgorithm``), a NameID and an attribute
statement required, unsolicited responses that name a request refused. The request data
handed to it describes the public URLs (``origins.public_origin``: LABEL_STUDIO_HOST's
origin, else the request's); a Host that makes them URLs python3-saml refuses is
UnusableHost, a clear refusal rather than a settings error.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error
from onelogin.saml2.settings import OneLogin_Saml2_Settings, validate_url

from ..conf import sso_settings
from ..origins import public_origin
from .metadata import MetadataUnavailable, ProviderMetadata, provider_metadata


class UnusableHost(Exception):
    """Our URLs, built for this request's host (LABEL_STUDIO_HOST unset), are not URLs."""


def acs_url(request: HttpRequest | None = None) -> str:
    """Where the provider posts its response: the public origin + /sso/saml/acs/."""
    return public_origin(request) + reverse("label_studio_sso_saml:acs")


def entity_id(request: HttpRequest | None = None) -> str:
    """SSO_SAML_SP_ENTITY_ID, else the URL of our metadata (a common, resolvable choice)."""
    return sso_settings.SSO_SAML_SP_ENTITY_ID or public_origin(request) + reverse(
        "label_studio_sso_saml:metadata"
    )


def request_data(request: HttpRequest, path: str) -> dict[str, Any]:
    """The request as python3-saml reads it, for the public URL of ``path``."""
    origin = public_origin(request)
    scheme, _, host = origin.partition("://")
    return {
        "https": "on" if scheme == "https" else "off",
        "http_host": host,
        "script_name": path,
    }


def saml_settings(
    request: HttpRequest | None = None, *, provider_known: bool = True
) -> OneLogin_Saml2_Settings:
    """python3-saml's settings for this request; MetadataUnavailable if the provider is unknown,
    UnusableHost if our URLs cannot be built for this request.

    With ``provider_known`` false only our side is described (our metadata must be readable
    while the provider's is not)."""
    OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT = sso_settings.SSO_CLOCK_SKEW  # the library's own knob
    acs = acs_url(request)
    if not validate_url(acs, True):
        raise UnusableHost  # e.g. a Host header of "-x.example", which Django lets through
    provider = provider_metadata() if provider_known else ProviderMetadata("", _PLACEHOLDER_PROVIDER)
    certificates = sso_settings.SSO_SAML_SP_CERT
    key = sso_settings.SSO_SAML_SP_KEY
    signing = bool(key and certificates)
    sp: dict[str, Any] = {
        "entityId": entity_id(request),
        "assertionConsumerService": {
            "url": acs,
            "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
        },
        "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_UNSPECIFIED,
    }
    if signing:
        sp["x509cert"] = certificates[0]
        sp["privateKey"] = key
        if len(certificates) > 1:
            sp["x509certNew"] = certificates[1]
    try:
        return _settings(sp, provider, signing, provider_known)
    except OneLogin_Saml2_Error as error:  # a metadata python3-saml cannot use: refused, never a 500
        raise MetadataUnavailable(f"python3-saml refused the settings ({error.code})") from None


def _settings(
    sp: dict[str, Any], provider: ProviderMetadata, signing: bool, provider_known: bool
) -> OneLogin_Saml2_Settings:
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": sp,
            "idp": provider.settings,
            "security": {
                "authnRequestsSigned": signing,
                "wantAssertionsSigned": False,  # a signed response covers its one assertion
                "wantMessagesSigned": False,
                "wantNameId": True,
                "wantAttributeStatement": False,  # a provider may send only a NameID
                "rejectDeprecatedAlgorithm": True,
                "rejectUnsolicitedResponsesWithInResponseTo": True,
                "requestedAuthnContext": False,  # whatever method the provider uses is its call
                "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
                "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
                "allowRepeatAttributeName": False,
                "allowSingleLabelDomains": True,  # http://label-studio:8080 in a cluster
            },
        },
        sp_validation_only=not provider_known,
    )


def service_provider_metadata(request: HttpRequest) -> str:
    """Our metadata XML for the provider's administrator (works without the provider's)."""
    metadata = saml_settings(request, provider_known=False).get_sp_metadata()
    return metadata.decode("utf-8") if isinstance(metadata, bytes) else metadata


# Our own metadata does not depend on the provider's, which may be down when an admin reads it.
_PLACEHOLDER_PROVIDER: dict[str, Any] = {
    "entityId": "urn:label-studio-sso:unknown-provider",
    "singleSignOnService": {
        "url": "https://provider.invalid/",
        "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
    },
    "x509cert": "",
}
