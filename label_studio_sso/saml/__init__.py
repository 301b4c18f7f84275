"""SAML 2.0 sign-in (section 15 of the design): Label Studio as a service provider.

``metadata`` reads the identity provider's metadata (a file, or a URL refreshed like a key
set); ``service_provider`` turns it and our settings into python3-saml's; ``flow`` sends the
browser to the provider and checks what it brings back; ``identity`` reads the user from the
verified assertion; ``views`` and ``urls`` are the routes under ``/sso/saml/``. Every XML
signature, decryption and schema check is python3-saml's (over xmlsec); the checks added
here are the ones it leaves loose (exact Destination and Recipient, a required Audience, a
request this browser made, each assertion spent once on every replica).
"""
