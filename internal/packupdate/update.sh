#!/usr/bin/env bash
# Fetches the updates WSO2 has published for the packs the nodes run and, when there are any,
# stages each updated pack: uploads it as a new version of the staged object, and announces it on
# EventBridge. It never changes what nodes run: a deploy promotes a staged version (nodes install
# only promoted, pinned versions), and only a deploy rolls the nodes onto it. Settings come from
# ${APIMKIT_ETC}/updater.env; the WSO2 subscription credentials are read from Secrets Manager.
# A pack is uploaded whole or not at all, and announced only once uploaded.
set -Eeuo pipefail

ETC=${APIMKIT_ETC:-/etc/apimkit}
# shellcheck source=/dev/null
source "$ETC/updater.env"
: "${AWS_REGION:?}" "${PACK_BUCKET:?}" "${PACK_PREFIX:?}" "${STAGING_PREFIX:?}" "${PRODUCT_HOMES:?}" "${CREDENTIALS_SECRET_ARN:?}" "${TOOL:?}"
EVENT_BUS=${EVENT_BUS:-default}
# The updater's name on the run-outcome metric the operations alarm watches (none: not reported).
RUN_REPORT_ID=${RUN_REPORT_ID:-}
export AWS_REGION

log() { printf '%s apimkit-update: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

# report_run VALUE puts the run's outcome (1 failed, 0 succeeded) on CloudWatch.
report_run() {
  [[ -n "$RUN_REPORT_ID" ]] || return 0
  aws cloudwatch put-metric-data --namespace apimkit/Updates --metric-name RunFailed \
    --dimensions "Updater=$RUN_REPORT_ID" --value "$1" || log "could not report the run's outcome to CloudWatch"
}
on_exit() {
  local status=$?
  [[ -z "${work:-}" ]] || rm -rf "$work"
  report_run $((status == 0 ? 0 : 1))
  exit "$status"
}
trap on_exit EXIT

# Run Command starts scripts without HOME; the update tool keeps its state under it.
export HOME=${HOME:-/root}
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
[[ "$TOOL" == update-tool ]] || fail "TOOL must be update-tool, not $TOOL (WUM was shut down in March 2023)"
case $(uname -m) in
x86_64) tool_bin=wso2update_linux ;;
aarch64) tool_bin=wso2update_linux_arm64 ;;
*) fail "no WSO2 update tool for $(uname -m)" ;;
esac

# On disk, not in /tmp, which Amazon Linux 2023 keeps in memory: a pack unpacked and packed again
# takes a few GiB.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/apimkit-update.XXXXXX")

secret=$(aws secretsmanager get-secret-value --secret-id "$CREDENTIALS_SECRET_ARN" --query SecretString --output text) ||
  fail "cannot read the WSO2 credentials from $CREDENTIALS_SECRET_ARN"
# field NAME prints one field of the secret, which goes through a pipe, never a command line.
field() { printf '%s' "$secret" | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
user=$(field username)
pass=$(field password)
[[ -n "$user" && -n "$pass" ]] || fail "the WSO2 credentials secret needs a username and a password"
unset secret

# digest prints a fingerprint of a product folder's content, leaving out what the server writes
# at run time and the update tool's own files (it updates itself), so an unchanged pack is
# recognised.
digest() {
  (cd "$1" && find . -type f ! -path './repository/logs/*' ! -path './tmp/*' ! -path './bin/wso2update_*' \
    ! -path './updates/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# update_pack HOME runs the update tool on the pack HOME the nodes run (the promoted one, which a
# deploy approved, so the tool the updater runs is one a deploy approved too). It leaves the updated pack in
# $work/HOME.zip and sets changed=1, or sets changed=0 when there was nothing to update; any
# failure ends the run (it is not called as a condition, so errexit holds inside).
update_pack() {
  local home=$1 key="$PACK_PREFIX/$1.zip" before after rc=0 attempt
  changed=0
  aws s3 cp --only-show-errors "s3://$PACK_BUCKET/$key" "$work/$home-current.zip" ||
    fail "cannot download s3://$PACK_BUCKET/$key"
  mkdir -p "$work/$home"
  python3 -m zipfile -e "$work/$home-current.zip" "$work/$home" || fail "cannot unpack s3://$PACK_BUCKET/$key"
  rm -f "$work/$home-current.zip"
  [[ -d "$work/$home/$home" ]] || fail "s3://$PACK_BUCKET/$key has no $home/ folder"
  # From 4.6, packs carry a script that downloads the tool instead of the tool itself.
  if [[ ! -f "$work/$home/$home/bin/$tool_bin" && -f "$work/$home/$home/bin/update_tool_setup.sh" ]]; then
    log "$home: fetching the update tool with bin/update_tool_setup.sh"
    (cd "$work/$home/$home/bin" && bash ./update_tool_setup.sh) || fail "bin/update_tool_setup.sh of $home failed"
  fi
  [[ -f "$work/$home/$home/bin/$tool_bin" ]] ||
    fail "s3://$PACK_BUCKET/$key has neither bin/$tool_bin nor bin/update_tool_setup.sh: start from a pack WSO2 has updated for WSO2 Updates 2.0"
  before=$(digest "$work/$home/$home")
  chmod +x "$work/$home/$home/bin/$tool_bin"
  # The credentials go in the tool's environment, which it reads after its --username and
  # --password flags (WSO2 Updates docs, "Authentication"): a command line is readable by every
  # user on the machine in /proc, an environment by its owner only. Its input is empty, so a tool
  # that still prompts fails at once rather than wait for an answer until Run Command gives up.
  for attempt in 1 2; do
    rc=0
    (cd "$work/$home/$home/bin" && UPDATE_TOOL_USERNAME=$user UPDATE_TOOL_PASSWORD=$pass "./$tool_bin" </dev/null) || rc=$?
    # Exit code 2: the tool updated itself and must run again.
    [[ $rc -eq 2 && $attempt -eq 1 ]] || break
  done
  ((rc == 0)) || fail "the WSO2 update tool failed for $home (exit $rc); it is given the credentials in UPDATE_TOOL_USERNAME and UPDATE_TOOL_PASSWORD"
  after=$(digest "$work/$home/$home")
  if [[ "$before" != "$after" ]]; then
    (cd "$work/$home" && python3 -m zipfile -c "$work/$home.zip" "$home") || fail "cannot pack the updated $home"
    changed=1
  fi
  rm -rf "${work:?}/$home"
}

updated=()
for home in $PRODUCT_HOMES; do
  update_pack "$home"
  if ((changed)); then updated+=("$home"); else log "$home: no update available"; fi
done
unset user pass

for home in "${updated[@]}"; do
  key="$STAGING_PREFIX$PACK_PREFIX/$home.zip"
  version=$(aws s3api put-object --bucket "$PACK_BUCKET" --key "$key" --body "$work/$home.zip" \
    --metadata "apimkit-updated=$(date -u +%FT%TZ)" --query VersionId --output text) ||
    fail "uploading s3://$PACK_BUCKET/$key failed; nothing was staged"
  log "$home: staged s3://$PACK_BUCKET/$key version $(printf %q "$version"); a deploy that names it promotes it"
  # The event is built by a JSON encoder: the version id S3 answers is data, never JSON text.
  entry=$(python3 -c 'import json, sys
bucket, key, version, product, bus = sys.argv[1:]
detail = json.dumps({"bucket": bucket, "key": key, "versionId": version, "product": product}, separators=(",", ":"))
print(json.dumps([{"Source": "apimkit.packs", "DetailType": "WSO2 pack updated", "Detail": detail, "EventBusName": bus}]))' \
    "$PACK_BUCKET" "$key" "$version" "$home" "$EVENT_BUS")
  # EventBridge answers a refused entry with success and a count of failed entries.
  failed=$(aws events put-events --entries "$entry" --query FailedEntryCount --output text) ||
    fail "announcing $key failed (the pack is staged)"
  [[ "$failed" == 0 ]] || fail "EventBridge refused the announcement of $key (the pack is staged)"
done
log "done: ${#updated[@]} pack(s) staged"
