"""OpenID Connect: "Sign in with <provider>" on Label Studio's login page.

``provider`` is Authlib's client with our policy (issuer, algorithms, key refetches,
timeouts); ``flow`` runs a sign-in from the button to a user; ``identity`` reads the
claims; ``views`` are the two ends of the button; ``logout`` adds the provider's logout to
Label Studio's; ``backchannel`` is the provider's logout notice. Users are found, created
and refreshed by the shared ``provisioning``; sessions start and end in ``sessions``.
"""
