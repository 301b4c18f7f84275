"""The portal way in (the 6.x contract): a portal asks ``POST /api/sso/token`` for a
single-use login token and sends the browser to Label Studio with it.

``keys`` and ``tokens`` sign and verify; ``redemption`` spends a token once; ``login``
turns a token into a session (``confirmation`` asks first when it would switch users);
``middleware``, ``login_view`` and ``backend`` are where tokens arrive; ``api`` issues them.
"""
