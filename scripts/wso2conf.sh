#!/usr/bin/env bash
# Copies WSO2's config-mapper inputs (templates, default.json, infer.json, key-mappings.json) of
# each release the library models into .wso2conf/ (ignored by git), one folder per source layer,
# with origin.json saying where each came from. constructs/profiles/confmap/extract reads them and
# writes the facts the replay test keeps. Arguments: the bare git directories of
# github:wso2/carbon-kernel, github:wso2/product-apim and github:usmanfarooq317/WSO2-APIM-4.5
# (an unpacked 4.5.0 GA pack), as the fetch tool or a `git clone --bare` leaves them.
set -euo pipefail
kernel=$1 product=$2 pack45=$3
out=$(cd "$(dirname "$0")/.." && pwd)/.wso2conf
rm -rf "$out"

# layer RELEASE ORDER-NAME ROLE GITDIR REV PATH: ROLE is "release" (the release's own files),
# "kernel" (the release's carbon-kernel files, some of whose templates the pack's features
# replace) or "fill" (templates the release ships from repositories not reachable here, taken
# from the nearest release that has them; never its JSON files).
layer() {
  local release=$1 name=$2 role=$3 git=$4 rev=$5 path=$6 dir
  dir=$out/$release/$name
  mkdir -p "$dir"
  git --git-dir="$git" archive "$rev" "$path" | tar -x -C "$dir" --strip-components="$(awk -F/ '{print NF}' <<<"$path")"
  local repo commit
  repo=$(basename "$(dirname "$git")" | tr + /)
  commit=$(git --git-dir="$git" rev-parse "$rev^{commit}")
  printf '{"repo":"%s","path":"%s","rev":"%s","commit":"%s","role":"%s"}\n' "$repo" "$path" "$rev" "$commit" "$role" >"$dir/origin.json"
}

kconf=distribution/kernel/carbon-home/repository/resources/conf
pconf=modules/distribution/product/src/main/resources/conf
packconf=repository/resources/conf

layer 3.2.0 1-kernel kernel "$kernel" v4.6.0 $kconf
layer 3.2.0 2-product release "$product" v3.2.0 $pconf
layer 3.2.0 3-fill fill "$pack45" HEAD $packconf
layer 4.3.0 1-kernel kernel "$kernel" v4.9.26 $kconf
layer 4.3.0 2-product release "$product" v4.3.0 $pconf
layer 4.3.0 3-fill fill "$pack45" HEAD $packconf
layer 4.5.0 1-pack release "$pack45" HEAD $packconf
echo "$out"
