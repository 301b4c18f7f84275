# Sourced by scripts/run and scripts/test: what a fresh machine of this kind lacks.
#
# A new machine has the docker client but no engine, and none of Debian's packages the
# image build and the tests use. As root with apt, they are installed when missing and
# the engine is started; anywhere else the message says what to install.

prerequisite_log() { echo "prerequisites: $*" >&2; }

# ensure_packages COMMAND_OR_PATH:PACKAGE ...
ensure_packages() {
  local pair missing=()
  for pair in "$@"; do
    local probe=${pair%%:*} package=${pair#*:}
    if [[ $probe == /* ]]; then
      [ -e "$probe" ] || missing+=("$package")
    else
      command -v "$probe" >/dev/null 2>&1 || missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    prerequisite_log "error: please install ${missing[*]} (Debian package names)"
    return 1
  fi
  prerequisite_log "installing ${missing[*]} with apt-get (once per machine)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    prerequisite_log "error: the Docker engine is not running; start it (e.g. sudo systemctl start docker)"
    return 1
  fi
  prerequisite_log "starting dockerd (log: /tmp/label-studio-sso-dockerd.log)"
  nohup dockerd >/tmp/label-studio-sso-dockerd.log 2>&1 &
  local attempt
  for attempt in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  prerequisite_log "error: dockerd did not start in 60 s; see /tmp/label-studio-sso-dockerd.log"
  return 1
}
