"""Trusted gateways: oauth2-proxy, Authelia, Authentik, IAP or Cloudflare Access
in front of Label Studio say who the person is, in headers or a signed assertion."""
