#!/usr/bin/env bash
# Prints the numbers docs/performance.md keeps:
#  - warm `cdk synth` of the reference app against the jsii floor (an app with one trivial
#    resource run the same way: compiled Go binary, cdk.json context, pinned CLI and Node.js);
#  - the same two syntheses inside one warm Go process (the constructs' own cost);
#  - the dbinit handler's cold path against a local MariaDB, and its Lambda binary's size;
#  - the wall and CPU time of `make test`: warm with nothing changed (Go's test cache and the synth
#    stamp answer), warm after a construct's source changed (the packages that import it rerun),
#    warm with every test rerun (FRESH=1) and the external checkers' memo filled, the same with the
#    memo off (APIMKIT_TOOL_MEMO=off: cfn-guard and cfn-lint run over every template), and from a
#    fresh clone of HEAD (npm ci, an empty .build, the machine's Go caches) as CI runs it (FRESH=1).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${BENCH_RUNS:-5}
work=.build/bench
mkdir -p "$work"
go build -o "$work/reference" ./apps/reference
go build -o "$work/empty" ./test/benchapp

# median seconds of $runs warm `cdk synth` runs of one app binary (one unmeasured warm-up first);
# extra arguments are environment settings for the runs.
median_synth() {
  local app=$1 times=() i start end
  shift
  for ((i = 0; i <= runs; i++)); do
    start=$(date +%s.%N)
    env "$@" cdk synth --app "$work/$app" --output "$work/out-$app" --quiet --no-notices >/dev/null 2>&1
    end=$(date +%s.%N)
    ((i > 0)) && times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
cli_empty=$(median_synth empty)
cli_ref=$(median_synth reference)
# aws-cdk-lib validates every template against the CloudFormation schema during synth unless
# CDK_VALIDATION=false; measured apart to show what it costs.
cli_empty_nv=$(median_synth empty CDK_VALIDATION=false)
cli_ref_nv=$(median_synth reference CDK_VALIDATION=false)

out=$(go test -run '^$' -bench 'BenchmarkSynth' -benchtime "${runs}x" -count 1 ./test/)
ns() { awk -v name="$1" '$1 ~ "^"name"(-[0-9]+)?$" { print $3 }' <<<"$out"; }
go_empty=$(ns BenchmarkSynthEmpty)
go_ref=$(ns BenchmarkSynthReference)
if [[ -z "$go_empty" || -z "$go_ref" ]]; then
  echo "bench: could not read the benchmark output:" >&2
  echo "$out" >&2
  exit 1
fi

dbinit_out=$(go test -run '^$' -bench 'BenchmarkInitFromPack' -benchtime "${runs}x" -count 1 ./lambda/dbinit/handler)
dbinit=$(awk '$1 ~ /^BenchmarkInitFromPack(-[0-9]+)?$/ { print $3 }' <<<"$dbinit_out")
if [[ -z "$dbinit" ]]; then
  echo "bench: could not read the dbinit benchmark output:" >&2
  echo "$dbinit_out" >&2
  exit 1
fi
# The shipped zips (make lambdas), and the binaries inside them.
lambda_size() {
  unzip -p "internal/lambdazip/$1.zip" bootstrap | wc -c
}
dbinit_size=$(lambda_size dbinit)
tmdns_size=$(lambda_size tmdns)
zips_size=$(cat internal/lambdazip/*.zip | wc -c)
tmdns_out=$(go test -run '^$' -bench 'BenchmarkLaunch' -benchtime 2000x -count 1 ./lambda/tmdns/handler)
tmdns=$(awk '$1 ~ /^BenchmarkLaunch(-[0-9]+)?$/ { print $3 }' <<<"$tmdns_out")

# wall and CPU (user + system, children included) seconds of `make test` run as "$@"
timed_test() {
  local dir=$1 t
  shift
  # time writes to its own file: the command's stderr goes to the log.
  /usr/bin/time -o "$work/make-test.time" -f '%e %U %S' env "$@" make --no-print-directory -C "$dir" test >"$work/make-test.log" 2>&1 ||
    { tail -50 "$work/make-test.log" >&2; echo "bench: make test failed" >&2; exit 1; }
  t=$(tail -1 "$work/make-test.time")
  awk '{ printf "%.0f s wall, %.0f s CPU", $1, $2 + $3 }' <<<"$t"
}
# Fills the memo and Go's test cache for this checkout. Plain runs: go test does not record the
# results of a -count=1 (FRESH=1) run, so only a cached run can make the next one a cache hit.
# Twice: Go keys a cached result on the modification time of every file and directory the tests
# read inside the module, the repository root among them, and the first run's CLI synth may create
# cdk.out/ there (on a checkout that has none), so the packages that stat the root run again once.
timed_test . >/dev/null
timed_test . >/dev/null
warm_same=$(timed_test .)
# A construct's code changes (a package-level call, so the test binary changes while templates
# stay the same): Go reruns the packages that import it, and the CLI synth runs again.
edited=constructs/wso2/errors.go
cp "$edited" "$work/edited.orig"
trap 'cp "$work/edited.orig" "$edited"' EXIT
printf '\nvar _ = fmt.Sprint("bench %s")\n' "$(date +%s%N)" >>"$edited"
warm_edit=$(timed_test .)
cp "$work/edited.orig" "$edited"
trap - EXIT
warm=$(timed_test . FRESH=1)
warm_nomemo=$(timed_test . FRESH=1 APIMKIT_TOOL_MEMO=off)
clone=$(mktemp -d)
git clone -q . "$clone/apimkit"
fresh=$(timed_test "$clone/apimkit" FRESH=1)
rm -rf "$clone"

awk -v ce="$cli_empty" -v cr="$cli_ref" -v ge="$go_empty" -v gr="$go_ref" -v zs="$zips_size" \
  -v n="$runs" -v cpus="$(nproc)" -v di="$dbinit" -v ds="$dbinit_size" -v cen="$cli_empty_nv" -v crn="$cli_ref_nv" \
  -v ts="$tmdns_size" -v tl="$tmdns" 'BEGIN {
  printf "| measure (%d CPUs; median or mean of %d warm runs) | empty app (floor) | reference app | ratio |\n", cpus, n
  printf "|---|---|---|---|\n"
  printf "| `cdk synth`, whole process (guard: ratio <= 2.0) | %.2f s | %.2f s | %.2f |\n", ce, cr, cr / ce
  printf "| `cdk synth` without aws-cdk-lib'"'"'s template validation (`CDK_VALIDATION=false`) | %.2f s | %.2f s | %.2f |\n", cen, crn, crn / cen
  printf "| synth inside one warm Go process | %.3f s | %.3f s | %.1f |\n", ge / 1e9, gr / 1e9, gr / ge
  printf "\n| measure | value |\n|---|---|\n"
  printf "| dbinit cold path: databases, user and both schemas (260 tables, 100 indexes) on local MariaDB | %.2f s |\n", di / 1e9
  printf "| dbinit Lambda binary (arm64, stripped) | %.1f MiB |\n", ds / 1048576
  printf "| tmdns Lambda binary (arm64, stripped) | %.1f MiB |\n", ts / 1048576
  printf "| tmdns launch event, handler time against in-memory fakes | %.1f us |\n", tl / 1000
  printf "| the shipped Lambda zips (internal/lambdazip, one per function) | %.1f MiB |\n", zs / 1048576
}'
# shellcheck disable=SC2016 # the backquotes are Markdown
printf '\n| `make test` (%d CPUs) | time |\n|---|---|\n' "$(nproc)"
printf '| warm, nothing changed (Go'"'"'s test cache, synth stamp) | %s |\n' "$warm_same"
printf '| warm, a construct'"'"'s code edited (constructs/wso2 and its importers rerun, CLI synth) | %s |\n' "$warm_edit"
# shellcheck disable=SC2016
printf '| warm, every test rerun (`FRESH=1`), checkers'"'"' memo filled | %s |\n' "$warm"
# shellcheck disable=SC2016
printf '| warm, memo off (`APIMKIT_TOOL_MEMO=off`: every checker runs) | %s |\n' "$warm_nomemo"
# shellcheck disable=SC2016
printf '| fresh clone (`npm ci`, empty `.build`, the machine'"'"'s Go caches) | %s |\n' "$fresh"
