#!/usr/bin/env bash
# gofmt, go vet and shellcheck over the repository's own files.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; } >/tmp/apimkit-apt.log 2>&1 ||
      { cat /tmp/apimkit-apt.log >&2; exit 1; }
  else
    echo "lint: shellcheck is missing; install it (Debian: apt-get install shellcheck)" >&2
    exit 1
  fi
fi

status=0
unformatted=$(git ls-files -co --exclude-standard '*.go' | xargs gofmt -l)
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  status=1
fi
go vet ./... || status=1
mapfile -t scripts < <(git ls-files -co --exclude-standard '*.sh' .ci/run)
shellcheck "${scripts[@]}" || status=1
[[ $status -eq 0 ]] && echo "lint: clean"
exit $status
