"""Helpers of the end-to-end tests: containers of the image, nginx in front, Chromium, pods."""
