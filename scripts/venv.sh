# Sourced by scripts/run and scripts/test: a virtualenv with Label Studio and this package.
#
# LABEL_STUDIO_VERSION picks the Label Studio release (default 1.23.2, the newest supported).
# The venv lives in a cache keyed by that release, pyproject.toml, the image's pinned server
# (docker/server-requirements.txt) and the Python version, so a second
# run on the same machine installs nothing; the editable install is refreshed each time
# so the venv always points at this checkout.

LSSO_CACHE_DIR=${LSSO_CACHE_DIR:-$HOME/.cache/label-studio-sso}
export LSSO_CACHE_DIR

lsso_venv() {
  local python=${PYTHON:-python3} release=${LABEL_STUDIO_VERSION:-1.23.2} key venv
  key=$( { echo "$release"; cat pyproject.toml docker/server-requirements.txt; "$python" -c 'import sys; print(sys.version)'; } \
    | sha256sum | cut -c1-16)
  venv=${LSSO_VENV:-$LSSO_CACHE_DIR/venv-$key}
  if [ ! -f "$venv/.complete" ]; then
    echo "scripts: creating $venv (Label Studio $release and test tools; a few minutes the first time)" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e ".[test]" "label-studio==$release" \
      -r docker/server-requirements.txt
    touch "$venv/.complete"
  else
    local output  # quiet unless it fails
    if ! output=$("$venv/bin/python" -m pip install --quiet --no-deps -e . 2>&1); then
      echo "$output" >&2
      return 1
    fi
  fi
  LSSO_PYTHON=$venv/bin/python
  export LSSO_PYTHON
}
