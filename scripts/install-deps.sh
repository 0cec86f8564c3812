#!/usr/bin/env bash
# Installs what joulebench needs on Debian 12 (as root): the packages in scripts/deps/apt.txt and,
# into ./.venv, the Python packages in scripts/deps/pip.txt.  Idempotent: a stamp records what was
# installed, so a second call costs a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp_dir=.deps-stamp
mkdir -p "$stamp_dir"
apt_list=$(grep -v '^\s*#' scripts/deps/apt.txt | tr -s ' \n' ' ')
apt_sum=$(sha256sum scripts/deps/apt.txt | cut -c1-16)
if [ ! -f "$stamp_dir/apt-$apt_sum" ]; then
  missing=$(for p in $apt_list; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
  fi
  touch "$stamp_dir/apt-$apt_sum"
fi

pip_sum=$(sha256sum scripts/deps/pip.txt | cut -c1-16)
if [ ! -f "$stamp_dir/pip-$pip_sum" ] || [ ! -x .venv/bin/python ]; then
  # Debian's own python3 (not a pyenv one) with the system site-packages, so Debian-packaged
  # Python modules are visible too.
  py=/usr/bin/python3; [ -x "$py" ] || py=python3
  [ -x .venv/bin/python ] || "$py" -m venv --system-site-packages .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r scripts/deps/pip.txt
  touch "$stamp_dir/pip-$pip_sum"
fi
