# label-studio-sso: the official Label Studio image plus the SSO bridge, configured by
# environment variables.
#
#   docker build .                      # the official base; PyPI for this package's build
#   docker build --build-arg LABEL_STUDIO_IMAGE=<a local Label Studio image> .
#
# Builds with BuildKit and with the classic builder alike (no RUN --mount, no secrets).
# The build stage installs this package and the pinned gunicorn into one directory; the
# final stage copies that directory and nothing else of the build (no wheels, no caches,
# no CA bundle). pip's own variables reach the build stage only, as build arguments:
# PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST, PIP_CERT (a proxy's CA bundle,
# a path inside the build context under .build/), PIP_NO_INDEX and PIP_FIND_LINKS (an
# air-gapped wheelhouse under .build/: docker/build-image makes one).
ARG LABEL_STUDIO_IMAGE=heartexlabs/label-studio:1.23.2
# The one place the version is written; pyproject.toml reads it from here.
ARG LSSO_VERSION=7.0.0

FROM ${LABEL_STUDIO_IMAGE} AS build
USER root
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
ARG PIP_TRUSTED_HOST=
ARG PIP_CERT=
ARG PIP_NO_INDEX=
ARG PIP_FIND_LINKS=
COPY . /src/
RUN sh /src/docker/install-package /src /opt/label-studio-sso/python

FROM ${LABEL_STUDIO_IMAGE}
ARG LABEL_STUDIO_IMAGE
ARG LSSO_VERSION
ARG REVISION=unknown
ARG LSSO_SOURCE=https://github.com/label-studio-sso/label-studio-sso
LABEL org.opencontainers.image.title="label-studio-sso" \
      org.opencontainers.image.description="Label Studio Community with single sign-on: portal tokens and more ways in" \
      org.opencontainers.image.version="${LSSO_VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${LSSO_SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${LABEL_STUDIO_IMAGE}"

COPY --from=build /opt/label-studio-sso/ /opt/label-studio-sso/
COPY docker/entrypoint.sh docker/gunicorn.conf.py docker/healthcheck.py docker/bootstrap_admin.py \
     docker/demo_data.py docker/demo_portal.py docker/serve.py /label-studio-sso/

# Ahead of Label Studio's own packages: this package and the pinned gunicorn.
ENV PYTHONPATH=/opt/label-studio-sso/python \
    DJANGO_SETTINGS_MODULE=settings_overlay.settings \
    LABEL_STUDIO_BASE_DATA_DIR=/label-studio/data \
    PORT=8080
USER 1001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=180s --retries=3 CMD ["python3", "/label-studio-sso/healthcheck.py"]
ENTRYPOINT ["/label-studio-sso/entrypoint.sh"]
CMD ["serve"]
