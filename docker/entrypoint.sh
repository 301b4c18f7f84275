#!/usr/bin/env bash
# Entrypoint of the label-studio-sso image.
#
#   secrets from *_FILE -> validate the environment -> wait for the database
#   -> exec docker/serve.py: migrate (safe with several replicas) -> first user (and demo data)
#      -> gunicorn, whose workers fork from that process
#
# With no command (or "serve") it runs that story. "migrate" (or "label-studio-migrate",
# the name the official Helm chart's init container uses) runs it up to the first user and
# exits. "hold" stays up doing nothing until SIGTERM: the official Helm chart's nginx
# container, whose port this pod's server answers (a pod's containers share one network).
# Any other command (bash, python, label-studio ...) runs instead, after the *_FILE
# secrets are read. Errors are one line on stderr; configuration errors exit 64.
set -Eeuo pipefail

LSSO_HOME=/label-studio-sso
SECRET_VARIABLES=(
  SECRET_KEY POSTGRE_PASSWORD LABEL_STUDIO_PASSWORD LABEL_STUDIO_USER_TOKEN
  SSO_SIGNING_KEY SSO_PREVIOUS_SIGNING_KEYS SSO_OIDC_CLIENT_SECRET SSO_SCIM_TOKEN SSO_SAML_SP_KEY
)
# Not secret, but long (PEM keys): read from a file (a ConfigMap, a mounted file) just the same.
FILE_VARIABLES=(SSO_ISSUER_PUBLIC_KEYS SSO_SAML_SP_CERT)

log() { echo "entrypoint: $*"; }
fail() {
  echo "entrypoint: error: $*" >&2
  exit 64
}

# file_env NAME: set NAME from the file named by NAME_FILE (Docker and Kubernetes secrets).
file_env() {
  local name=$1
  local file_name="${name}_FILE"
  if [ -z "${!file_name+set}" ]; then
    return
  fi
  if [ -n "${!name+set}" ]; then
    fail "both $name and $file_name are set; set only one of them"
  fi
  local file=${!file_name}
  [ -f "$file" ] && [ -r "$file" ] || fail "$file_name=$file is not a readable file"
  export "$name"="$(<"$file")"
  unset "$file_name"
}

read_secrets() {
  local name
  for name in "${SECRET_VARIABLES[@]}" "${FILE_VARIABLES[@]}"; do
    file_env "$name"
  done
}

validate_environment() {
  python3 -m label_studio_sso.container.environment check || exit $?
  python3 -m label_studio_sso.container.environment provider || true  # a warning at most, never a stop
}

wait_for_database() {
  python3 -m label_studio_sso.container.environment wait-for-db || exit $?
}

uses_postgresql() {  # DJANGO_DB as Label Studio reads it: LABEL_STUDIO_, HEARTEX_, then plain
  case "${LABEL_STUDIO_DJANGO_DB:-${HEARTEX_DJANGO_DB:-${DJANGO_DB:-sqlite}}}" in
    default | postgresql) return 0 ;;
    *) return 1 ;;
  esac
}

announce_migration() {
  # docker/serve.py migrates; on PostgreSQL one replica at a time under an advisory lock,
  # the others wait for it (bounded by MIGRATE_LOCK_TIMEOUT, exit 69).
  if uses_postgresql; then
    log "migrating PostgreSQL, one replica at a time"
  else
    log "migrating the SQLite database in $LABEL_STUDIO_BASE_DATA_DIR"
  fi
}

serve() {
  # Migrations, the first user (LABEL_STUDIO_USERNAME), the demo data (LSSO_DEMO_DATA=true)
  # and gunicorn, in one Python process that becomes PID 1, so signals reach gunicorn.
  # With "prepare", everything but gunicorn.
  exec python3 "$LSSO_HOME/serve.py" "$@"
}

hold() {
  trap 'exit 0' TERM INT # before saying so: a SIGTERM right after the line must exit 0
  log "holding: nothing to run in this container; stopping on SIGTERM"
  sleep infinity &
  wait
}

_main() {
  read_secrets
  local command=${1:-serve}
  case "$command" in
    serve | migrate | label-studio-migrate) ;;
    hold) hold; return ;;
    *) exec "$@" ;;
  esac
  validate_environment
  wait_for_database
  announce_migration
  if [ "$command" = serve ]; then
    serve
  else
    serve prepare
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _main "$@"
fi
