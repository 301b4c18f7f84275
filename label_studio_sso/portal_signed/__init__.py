"""Portal-signed login tokens: the portal signs with its own private key and
Label Studio holds only public keys, so no shared secret and no API round trip."""
