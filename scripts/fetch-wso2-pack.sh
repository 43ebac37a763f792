#!/usr/bin/env bash
# Fills a folder with unpacked WSO2 API Manager packs, one folder per pack home (wso2am-4.5.0,
# wso2am-acp-4.5.0, wso2am-universal-gw-4.5.0, wso2am-tm-4.5.0), for the opt-in tests that run
# WSO2's own files instead of stand-ins:
#
#   APIMKIT_WSO2_PACKS=$PWD/.wso2 go test -count=1 ./lambda/dbinit/handler ./internal/bootscript
#
# The default folder, .wso2 at the repository's top, is git-ignored: WSO2's files are never
# committed. Each SOURCE is one of:
#
#   PATH.zip            a pack as downloaded from WSO2 (wso2am-acp-4.5.0.zip, ...), unpacked whole;
#   pack=GITDIR[@REV]   a git repository holding one unpacked pack at its top, such as
#                       github.com/usmanfarooq317/WSO2-APIM-4.5 (wso2am-4.5.0): its bin/, dbscripts/
#                       and diagnostics-tool/bin/ go under the home its bin/version.txt names;
#   source=GITDIR@TAG   github.com/wso2/product-apim at a release tag: each distribution's start
#                       scripts, put where its built pack has them (bin/, and
#                       diagnostics-tool/bin/diagnostics.sh). WSO2's build copies them through
#                       Maven filtering, which changes nothing in them (4.5.0's all-in-one pack
#                       holds its script as in the tag, but for the edit noted below).
#
# A GITDIR may be a bare repository (as the project's fetch tool leaves one) or a clone. With a
# pack= and a source= of the same release, the all-in-one pack's start script is compared with
# the release's and, when they differ, replaced by the release's (saying so): the 4.5.0 pack in
# usmanfarooq317/WSO2-APIM-4.5 has JAVA_HOME set to a Debian path in its bin/api-manager.sh.
set -euo pipefail

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "usage: $0 [-o DIR] SOURCE..." >&2
  exit 2
}

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/.wso2
while getopts o:h opt; do
  case $opt in
  o) out=$OPTARG ;;
  *) usage ;;
  esac
done
shift $((OPTIND - 1))
(($# > 0)) || usage
mkdir -p "$out"
out=$(cd "$out" && pwd)

# gitdir PATH prints the git directory of a bare repository or of a clone.
gitdir() {
  git --git-dir="$1" rev-parse --git-dir >/dev/null 2>&1 && { printf '%s\n' "$1"; return; }
  git --git-dir="$1/.git" rev-parse --git-dir >/dev/null 2>&1 && { printf '%s\n' "$1/.git"; return; }
  echo "$1 is not a git repository" >&2
  return 1
}

# export_tree GITDIR REV PREFIX DEST copies the files under PREFIX at REV into DEST, keeping their
# modes. A file whose content the repository lacks (large files may be left out of a mirror) is
# reported and skipped.
export_tree() {
  local git=$1 rev=$2 prefix=$3 dest=$4 mode type sha path rel skipped=0
  while IFS=$'\t' read -r meta path; do
    read -r mode type sha <<<"$meta"
    [[ $type == blob ]] || continue
    rel=${path#"$prefix"}
    if ! git --git-dir="$git" cat-file -e "$sha" 2>/dev/null; then
      skipped=$((skipped + 1))
      continue
    fi
    mkdir -p "$dest/$(dirname "$rel")"
    git --git-dir="$git" cat-file blob "$sha" >"$dest/$rel"
    if [[ $mode == 100755 ]]; then chmod 0755 "$dest/$rel"; else chmod 0644 "$dest/$rel"; fi
  done < <(git --git-dir="$git" ls-tree -r "$rev" -- "$prefix")
  if ((skipped > 0)); then echo "  $skipped file(s) under $prefix are not in the repository (left out)" >&2; fi
}

from_pack() {
  local spec=$1 git rev version home
  git=$(gitdir "${spec%@*}")
  rev=HEAD
  [[ $spec == *@* ]] && rev=${spec##*@}
  version=$(git --git-dir="$git" show "$rev:bin/version.txt" | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
  [[ -n $version ]] || { echo "$spec: bin/version.txt names no release" >&2; return 1; }
  home=wso2am-$version
  echo "$spec -> $out/$home (bin/, dbscripts/, diagnostics-tool/bin/)"
  rm -rf "${out:?}/$home"
  for dir in bin dbscripts diagnostics-tool/bin; do
    export_tree "$git" "$rev" "$dir/" "$out/$home/$dir"
  done
}

# Where each distribution's start scripts live in product-apim, and the home they unpack under.
layouts=(
  "all-in-one-apim/modules/distribution/product/src/main/startup-scripts wso2am"
  "modules/distribution/product/src/main/startup-scripts wso2am"
  "api-control-plane/modules/distribution/product/src/main/startup-scripts wso2am-acp"
  "gateway/modules/distribution/product/src/main/startup-scripts wso2am-universal-gw"
  "traffic-manager/modules/distribution/product/src/main/startup-scripts wso2am-tm"
)

from_source() {
  local spec=$1 git tag version dir dist home file name dest found=0
  [[ $spec == *@* ]] || { echo "source=$spec: name the release tag (source=GITDIR@v4.5.0)" >&2; return 1; }
  git=$(gitdir "${spec%@*}")
  tag=${spec##*@}
  version=${tag#v}
  for layout in "${layouts[@]}"; do
    read -r dir dist <<<"$layout"
    git --git-dir="$git" cat-file -e "$tag:$dir" 2>/dev/null || continue
    found=1
    home=$dist-$version
    echo "$tag:$dir -> $out/$home"
    while read -r file; do
      name=${file##*/}
      [[ $name == *.sh ]] || continue
      dest=$out/$home/bin/$name
      [[ $name == diagnostics.sh ]] && dest=$out/$home/diagnostics-tool/bin/$name
      mkdir -p "$(dirname "$dest")"
      if [[ -f $dest ]] && ! git --git-dir="$git" show "$tag:$file" | cmp -s - "$dest"; then
        echo "  ${dest#"$out"/} differs from the release's: replaced by it; the difference was:" >&2
        git --git-dir="$git" show "$tag:$file" | diff - "$dest" | sed 's/^/    /' >&2 || true
      fi
      git --git-dir="$git" show "$tag:$file" >"$dest"
      chmod 0755 "$dest"
    done < <(git --git-dir="$git" ls-tree --name-only "$tag" -- "$dir/")
  done
  ((found)) || { echo "$tag has none of the known start-script folders" >&2; return 1; }
}

from_zip() {
  echo "$1 -> $out"
  python3 -m zipfile -e "$1" "$out"
  chmod +x "$out"/*/bin/*.sh 2>/dev/null || true
}

# Packs first, so that the release's start scripts are compared with, and win over, a pack's.
for src in "$@"; do
  case $src in
  pack=*) from_pack "${src#pack=}" ;;
  *.zip) from_zip "$src" ;;
  source=*) ;;
  *) usage ;;
  esac
done
for src in "$@"; do
  case $src in source=*) from_source "${src#source=}" ;; esac
done
echo "done: APIMKIT_WSO2_PACKS=$out"
