"""Label Studio's own settings and URLs with label-studio-sso layered on, files untouched."""
