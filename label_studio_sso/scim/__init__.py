"""SCIM 2.0 provisioning (RFC 7643/7644): an identity provider creates, updates and deactivates users.

``resources`` is what the service publishes, ``access`` who may call it, ``users`` and
``groups`` how SCIM resources become Label Studio rows, ``listing`` lists and filters,
``views`` the endpoints. Parsing, filters and PATCH come from scim2-models.
"""
