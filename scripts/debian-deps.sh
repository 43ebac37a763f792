#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: mariadb-server, whose
# server the dbinit handler tests start on a loopback port (they never use a system service), and
# ShellCheck, which lints the boot script, Graphviz, which draws the architecture, and Java's
# keytool, which checks that the keystore function's PKCS#12 file reads as the nodes read it, and
# unzip, which `make bench` reads the shipped Lambda zips with.
set -euo pipefail

missing=()
command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v dot >/dev/null || missing+=(graphviz)
command -v keytool >/dev/null || missing+=(openjdk-17-jre-headless)
command -v unzip >/dev/null || missing+=(unzip)
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "debian-deps: ${missing[*]} missing; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "installing Debian packages: ${missing[*]}"
log=$(mktemp)
if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
rm -f "$log"
