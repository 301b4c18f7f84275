# label-studio-sso: the official Label Studio image plus the SSO bridge, configured by
# environment variables. Build with docker/build-image, which picks this base or, where
# no registry is reachable, an equivalent offline base (docker/offline-base/).
ARG LABEL_STUDIO_IMAGE=heartexlabs/label-studio:1.23.2
FROM ${LABEL_STUDIO_IMAGE}

ARG LSSO_VERSION=7.0.0
ARG LABEL_STUDIO_VERSION=1.23.2
ARG LSSO_SOURCE=https://pypi.org/project/label-studio-sso/
LABEL org.opencontainers.image.title="label-studio-sso" \
      org.opencontainers.image.description="Label Studio Community with single sign-on for an embedding portal" \
      org.opencontainers.image.version="${LSSO_VERSION}" \
      org.opencontainers.image.source="${LSSO_SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.labelstud.version="${LABEL_STUDIO_VERSION}"

USER root
# Wheels built beforehand by docker/build-image: this package and gunicorn (no network here).
COPY .docker-wheels/ /tmp/lsso-wheels/
RUN python3 -m pip install --no-cache-dir --no-index --find-links /tmp/lsso-wheels label-studio-sso gunicorn \
 && rm -rf /tmp/lsso-wheels
COPY docker/entrypoint.sh docker/gunicorn.conf.py docker/healthcheck.py docker/bootstrap_admin.py \
     docker/demo_data.py docker/demo_portal.py docker/serve.py /label-studio-sso/

ENV DJANGO_SETTINGS_MODULE=settings_overlay.settings \
    LABEL_STUDIO_BASE_DATA_DIR=/label-studio/data \
    PORT=8080
USER 1001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=180s --retries=3 CMD ["python3", "/label-studio-sso/healthcheck.py"]
ENTRYPOINT ["/label-studio-sso/entrypoint.sh"]
CMD ["serve"]
