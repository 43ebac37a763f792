#!/usr/bin/env bash
# Turns a fresh Amazon Linux 2023 instance into a WSO2 API Manager node, then tells its Auto Scaling
# group it is in service. Everything node-specific comes from ${APIMKIT_ETC}/node.env (written by the
# user data); no secret is passed in, they are read from Secrets Manager here. On any failure the
# launch lifecycle action is abandoned, so the group replaces the instance, and CloudFormation is
# told (a FAILURE signal), so a deploy rolling the group onto a new launch template rolls back.
set -Eeuo pipefail

ROOT=${APIMKIT_ROOT:-}
ETC=${APIMKIT_ETC:-$ROOT/etc/apimkit}
# shellcheck source=/dev/null
source "$ETC/node.env"

: "${AWS_REGION:?}" "${PACK_BUCKET:?}" "${PACK_KEY:?}" "${PACK_HOME:?}" "${JDBC_DRIVER_KEY:?}"
: "${PACK_VERSION:?}" "${PACK_SHA256:?}" "${JDBC_DRIVER_VERSION:?}" "${JDBC_DRIVER_SHA256:?}"
: "${DB_SECRET_ARN:?}" "${ADMIN_SECRET_ARN:?}" "${START_COMMAND:?}" "${JAVA_PACKAGE:?}"
: "${HEALTH_PROTOCOL:?}" "${HEALTH_PORT:?}" "${LIFECYCLE_HOOK:?}"
HEALTH_PATH=${HEALTH_PATH:-/}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-900}
HEALTH_FAILURES=${HEALTH_FAILURES:-3}
# Share of the instance's memory the JVM may use as heap (WSO2's scripts default to 1 GiB).
HEAP_PERCENT=${HEAP_PERCENT:-60}
DNS_TTL=${DNS_TTL:-30}
KEYSTORE_PASSWORD_DEFAULT=wso2carbon
# The pack's client-truststore.jks keeps its password when the keystore is replaced.
TRUSTSTORE_PASSWORD=wso2carbon

WSO2_BASE=$ROOT/opt/wso2
WSO2_HOME=$WSO2_BASE/$PACK_HOME
export AWS_REGION

log() { printf '%s apimkit-boot: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

imds() {
  local token
  token=$(curl -fsS --retry 5 --retry-connrefused -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
    http://169.254.169.254/latest/api/token)
  curl -fsS --retry 5 --retry-connrefused -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

# retry TRIES CMD... runs CMD until it succeeds, at most TRIES times, RETRY_PAUSE seconds apart:
# a new instance's permissions can take a moment to apply, and the policy that lets it complete
# its launch is created only once its group exists.
retry() {
  local tries=$1 i
  shift
  for ((i = 1; ; i++)); do
    if "$@"; then return 0; fi
    if ((i >= tries)); then return 1; fi
    sleep "${RETRY_PAUSE:-6}"
  done
}

healthy() {
  if [[ "$HEALTH_PROTOCOL" == TCP ]]; then
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/${HEALTH_PORT}" 2>/dev/null
  else
    curl -ksf -o /dev/null --max-time 5 "https://127.0.0.1:${HEALTH_PORT}${HEALTH_PATH}"
  fi
}

# One run of apimkit-health.service (REPORT_HEALTH=1): counts failed checks in a row, and from
# HEALTH_FAILURES on reports the instance unhealthy (ignored in the grace period; repeated).
if [[ "${1:-}" == report-health ]]; then
  f=$ROOT/run/apimkit-health-failures
  if healthy; then rm -f "$f"; exit 0; fi
  n=$(cat "$f" 2>/dev/null) || true
  [[ "$n" =~ ^[0-9]+$ ]] || n=0
  echo $((++n)) >"$f"
  log "health check failed, $n in a row"
  aws cloudwatch put-metric-data --namespace APIMKit/Nodes --metric-name WSO2HealthCheckFailures \
    --dimensions "AutoScalingGroupName=$ASG_NAME" --value "$n" || true
  if ((n >= HEALTH_FAILURES)); then
    log "reporting $INSTANCE_ID unhealthy"
    aws autoscaling set-instance-health --instance-id "$INSTANCE_ID" --health-status Unhealthy --should-respect-grace-period || true
  fi
  exit 0
fi

INSTANCE_ID=$(imds instance-id)
# What the instance metadata answers goes into AWS calls and the log, so it must have the shape it
# has. Without a valid id the launch cannot be abandoned by name: the hook's timeout abandons it.
if [[ ! "$INSTANCE_ID" =~ ^i-[0-9a-f]{8}([0-9a-f]{9})?$ ]]; then
  log "the instance metadata gave an instance id that is not one: $(printf %q "$INSTANCE_ID")"
  exit 1
fi
# The node's private address: 3.2's deployment.toml names it as $env{WSO2_NODE_IP} ([server]
# node_ip, which its config mapper needs before it starts the server).
NODE_IP=$(imds local-ipv4)
if [[ ! "$NODE_IP" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
  log "the instance metadata gave a private address that is not one: $(printf %q "$NODE_IP")"
  exit 1
fi
# own_group prints this instance's group; it fails while Auto Scaling does not list the instance
# yet (the answer is then "None").
own_group() {
  local name
  name=$(aws autoscaling describe-auto-scaling-instances --instance-ids "$INSTANCE_ID" \
    --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text) || return 1
  if [[ -z "$name" || "$name" == None ]]; then return 1; fi
  printf '%s\n' "$name"
}
# The group's name is not known when its launch template is written; ask for it.
ASG_NAME=${ASG_NAME:-$(retry 10 own_group)}

complete_lifecycle() {
  aws autoscaling complete-lifecycle-action --lifecycle-hook-name "$LIFECYCLE_HOOK" \
    --auto-scaling-group-name "$ASG_NAME" --instance-id "$INSTANCE_ID" --lifecycle-action-result "$1"
}

# signal STATUS tells CloudFormation how this node's boot ended (SUCCESS once it is in service,
# FAILURE when its boot failed), when the group's creation or rolling update waits on its nodes'
# signals: a FAILURE, or no SUCCESS in time, rolls the deploy back. Outside such an update
# CloudFormation refuses the signal, which is then only logged.
signal() {
  if [[ -z "${SIGNAL_STACK:-}" ]]; then return 0; fi
  if aws cloudformation signal-resource --stack-name "$SIGNAL_STACK" --logical-resource-id "$SIGNAL_RESOURCE" \
    --unique-id "$INSTANCE_ID" --status "$1"; then
    log "signalled $1 to ${SIGNAL_STACK}/${SIGNAL_RESOURCE}"
  else
    log "CloudFormation took no $1 signal (no deploy is waiting on this group)"
  fi
}

on_error() {
  local status=$?
  # A failing subshell fails its parent too: the parent reports and abandons, once.
  if [[ $BASHPID != "$$" ]]; then exit "$status"; fi
  log "failed (exit $status) at line ${BASH_LINENO[0]}: $BASH_COMMAND; abandoning the launch"
  complete_lifecycle ABANDON || log "could not abandon the lifecycle action"
  signal FAILURE
  exit "$status"
}
trap on_error ERR

# run_extension NAME runs the team's own commands the user data wrote as $ETC/NAME.sh, if any
# (NodeOptions.BootCommands); a failure abandons the launch like any other.
run_extension() {
  if [[ -f "$ETC/$1.sh" ]]; then
    log "running the $1 commands"
    bash -euo pipefail "$ETC/$1.sh"
  fi
}
run_extension before-setup

# secret_field ARN FIELD prints one field of a JSON secret.
secret_field() {
  aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# secret_text ARN FIELD prints a text field of a JSON secret that WSO2 is given as one value (a
# password). It refuses a missing or empty field, and control characters: a line break would end
# the value in secrets.env (and a trailing one would be lost on the way), and no generated secret
# holds one. The value itself is never logged.
secret_text() {
  local status=0
  aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text |
    python3 -c 'import json, sys
value = json.load(sys.stdin).get(sys.argv[1])
if not isinstance(value, str) or not value:
    sys.exit(3)
if any(ord(c) < 32 or ord(c) == 127 for c in value):
    sys.exit(4)
print(value)' "$2" || status=$?
  case $status in
  3) log "the secret ${1} has no ${2}" ;;
  4) log "the ${2} in ${1} holds a control character (a line break, say), which WSO2 cannot be given; change the secret" ;;
  esac
  return "$status"
}

# env_assignment NAME VALUE prints a line of a systemd EnvironmentFile that sets NAME to exactly
# VALUE: double-quoted, with the four characters a backslash keeps there (\ " ` $) escaped, so
# no character of VALUE ends it or is read as anything but itself (systemd.exec(5)).
env_assignment() {
  local value=$2 c
  for c in "\\" '"' '`' '$'; do value=${value//"$c"/"\\$c"}; done
  printf '%s="%s"\n' "$1" "$value"
}

log "installing ${JAVA_PACKAGE} and the CloudWatch agent"
dnf install -y -q "$JAVA_PACKAGE" python3 amazon-cloudwatch-agent

id wso2 >/dev/null 2>&1 || useradd --system --home-dir "$WSO2_BASE" --shell /sbin/nologin wso2

# WSO2 refuses to start without JAVA_HOME; the runtime package puts java under it.
JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
if [[ ! -x "$JAVA_HOME/bin/java" ]]; then
  log "no java under ${JAVA_HOME} after installing ${JAVA_PACKAGE}"
  false
fi

# fetch_pinned KEY VERSION SHA256 FILE downloads exactly that version of KEY, the one the
# deployment promoted and pinned, and refuses it, before anything reads it, unless its SHA-256 is
# the pinned one: whoever can upload to the bucket cannot change what a node runs.
fetch_pinned() {
  local key=$1 version=$2 want=$3 file=$4 got
  log "fetching s3://${PACK_BUCKET}/${key} version ${version}"
  aws s3api get-object --bucket "$PACK_BUCKET" --key "$key" --version-id "$version" "$file" >/dev/null
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [[ "$got" != "$want" ]]; then
    rm -f "$file"
    log "refusing s3://${PACK_BUCKET}/${key} version ${version}: its SHA-256 is ${got}, the deployment pinned ${want}"
    false
  fi
}

# On disk, not in /tmp, which Amazon Linux 2023 keeps in memory.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/apimkit-boot.XXXXXX")
fetch_pinned "$PACK_KEY" "$PACK_VERSION" "$PACK_SHA256" "$work/pack.zip"
fetch_pinned "$JDBC_DRIVER_KEY" "$JDBC_DRIVER_VERSION" "$JDBC_DRIVER_SHA256" "$work/driver.jar"
mkdir -p "$WSO2_BASE"
python3 -m zipfile -e "$work/pack.zip" "$WSO2_BASE"
rm -f "$work/pack.zip"
if [[ ! -d "$WSO2_HOME" ]]; then
  log "the pack has no ${PACK_HOME}/ folder"
  false
fi
chmod +x "$WSO2_HOME"/bin/*.sh

log "installing the MySQL JDBC driver"
mkdir -p "$WSO2_HOME/repository/components/lib"
install -m 0644 "$work/driver.jar" "$WSO2_HOME/repository/components/lib/$(basename "$JDBC_DRIVER_KEY")"
rm -f "$work/driver.jar"

# find_keytool sets keytool: it ships beside java in the runtime package; PATH is the fallback.
find_keytool() {
  keytool=$JAVA_HOME/bin/keytool
  if [[ ! -x "$keytool" ]]; then
    keytool=$(command -v keytool) || {
      log "keytool not found beside java or on PATH"
      return 1
    }
  fi
}

if [[ -n "${KEYSTORE_SECRET_ARN:-}" ]]; then
  # The deployment's own key and certificate replace the pack's (issued to localhost), so the
  # nodes' names check out when they call each other; the truststore trusts it under the alias
  # the pack's certificate had.
  log "installing the keystore from ${KEYSTORE_SECRET_ARN}"
  find_keytool
  security=$WSO2_HOME/repository/resources/security
  KEYSTORE_PASSWORD=$(secret_field "$KEYSTORE_SECRET_ARN" password)
  if [[ ! "$KEYSTORE_PASSWORD" =~ ^[A-Za-z0-9._~@%+=-]{6,}$ ]]; then
    log "the keystore password in ${KEYSTORE_SECRET_ARN} must be 6 or more letters, digits or ._~@%+=-"
    false
  fi
  export KEYSTORE_PASSWORD TRUSTSTORE_PASSWORD
  (
    umask 077
    secret_field "$KEYSTORE_SECRET_ARN" keystore | base64 -d >"$security/${KEYSTORE_FILE:?}"
  )
  "$keytool" -exportcert -rfc -alias "${KEYSTORE_ALIAS:?}" -storetype PKCS12 -keystore "$security/$KEYSTORE_FILE" \
    -storepass:env KEYSTORE_PASSWORD -file "$work/keystore-cert.pem" >&2
  # Also under gateway_certificate_alias, the alias gateways check API keys against (the pack
  # ships its own certificate there too).
  for alias in "$KEYSTORE_ALIAS" gateway_certificate_alias; do
    "$keytool" -delete -alias "$alias" -keystore "$security/client-truststore.jks" \
      -storepass:env TRUSTSTORE_PASSWORD >/dev/null 2>&1 || true
    "$keytool" -importcert -noprompt -alias "$alias" -file "$work/keystore-cert.pem" \
      -keystore "$security/client-truststore.jks" -storepass:env TRUSTSTORE_PASSWORD >&2
  done
fi

if [[ -f "$ETC/database-ca.pem" ]]; then
  if [[ -z "${DB_TRUSTSTORE:-}" || -z "${DB_TRUSTSTORE_PASSWORD:-}" ]]; then
    log "node.env names no DB_TRUSTSTORE and DB_TRUSTSTORE_PASSWORD for $ETC/database-ca.pem"
    false
  fi
  log "trusting the database's certificate authorities (${DB_TRUSTSTORE})"
  find_keytool
  # Built by root in the configuration folder: WSO2 reads its trust anchors, never rewrites them.
  store=$ROOT$DB_TRUSTSTORE
  rm -f "$store"
  awk -v dir="$work" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/database-ca-" n ".pem") }' "$ETC/database-ca.pem"
  certs=()
  for cert in "$work"/database-ca-*.pem; do
    if [[ -f "$cert" ]]; then certs+=("$cert"); fi
  done
  if ((${#certs[@]} == 0)); then
    log "no certificate in $ETC/database-ca.pem"
    false
  fi
  for cert in "${certs[@]}"; do
    "$keytool" -importcert -noprompt -storetype PKCS12 -keystore "$store" -storepass "$DB_TRUSTSTORE_PASSWORD" \
      -alias "$(basename "$cert" .pem)" -file "$cert" >/dev/null
  done
  chmod 0644 "$store"
fi

config=$ETC/deployment.toml
if [[ -n "${CONFIG_ZONES:-}" ]]; then
  # The group's nodes are named one per zone: each takes the configuration of its own zone.
  zone=$(imds placement/availability-zone)
  if [[ ! "$zone" =~ ^[a-z]{2}(-[a-z0-9]+)+$ ]]; then
    log "the instance metadata gave an availability zone that is not one: $(printf %q "$zone")"
    false
  fi
  IFS=, read -ra zones <<<"$CONFIG_ZONES"
  config=
  for i in "${!zones[@]}"; do
    if [[ "${zones[$i]}" == "$zone" ]]; then config=$ETC/deployment-$i.toml; fi
  done
  if [[ -z "$config" || ! -f "$config" ]]; then
    log "no configuration for zone ${zone}: this group's nodes are named per zone (${CONFIG_ZONES})"
    false
  fi
  log "configuring the node of zone ${zone}"
fi
log "writing deployment.toml and the secrets the node resolves at start"
install -m 0644 "$config" "$WSO2_HOME/repository/conf/deployment.toml"
# The database endpoint is known only once the database exists: the application secret holds it.
# It lands in a TOML string inside JDBC URLs, so it must be a host name or an IPv4 address, and it
# is put in as text (never as a sed expression, whose replacement could run commands).
if grep -q '@@APIMKIT_DB_HOST@@' "$WSO2_HOME/repository/conf/deployment.toml"; then
  db_host=$(secret_field "$DB_SECRET_ARN" host)
  label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
  if ((${#db_host} > 253)) || [[ ! "$db_host" =~ ^$label(\.$label)*$ ]]; then
    log "the host in ${DB_SECRET_ARN} is not a host name or an IPv4 address: $(printf %q "$db_host")"
    false
  fi
  DB_HOST=$db_host python3 -c 'import os, sys
path = sys.argv[1]
with open(path) as f:
    text = f.read()
with open(path, "w") as f:
    f.write(text.replace("@@APIMKIT_DB_HOST@@", os.environ["DB_HOST"]))' "$WSO2_HOME/repository/conf/deployment.toml"
fi
db_password=$(secret_text "$DB_SECRET_ARN" password)
admin_password=$(secret_text "$ADMIN_SECRET_ARN" password)
umask 077
{
  env_assignment WSO2_DB_PASSWORD "$db_password"
  env_assignment WSO2_ADMIN_PASSWORD "$admin_password"
  env_assignment WSO2_KEYSTORE_PASSWORD "${KEYSTORE_PASSWORD:-$KEYSTORE_PASSWORD_DEFAULT}"
  env_assignment WSO2_TRUSTSTORE_PASSWORD "$TRUSTSTORE_PASSWORD"
} >"$ETC/secrets.env"
umask 022
unset db_password admin_password KEYSTORE_PASSWORD
# A short DNS cache (the JVM's own default is 30 s, and for ever under a security manager) lets
# nodes follow a replaced traffic manager or a failed-over database quickly.
printf 'networkaddress.cache.ttl=%s\nnetworkaddress.cache.negative.ttl=5\n' "$DNS_TTL" >"$ETC/java.security"
chown -R wso2:wso2 "$WSO2_BASE"
chown wso2:wso2 "$ETC/secrets.env"

log "installing the wso2am service"
mkdir -p "$ROOT/etc/systemd/system"
cat >"$ROOT/etc/systemd/system/wso2am.service" <<UNIT
[Unit]
Description=WSO2 API Manager (${PACK_HOME})
After=network-online.target
Wants=network-online.target

[Service]
User=wso2
Group=wso2
WorkingDirectory=${WSO2_HOME}
EnvironmentFile=${ETC}/secrets.env
Environment=JAVA_HOME=${JAVA_HOME}
Environment=WSO2_NODE_IP=${NODE_IP}
Environment=JAVA_OPTS=-Djava.security.properties=${ETC}/java.security
Environment="JVM_MEM_OPTS=-XX:InitialRAMPercentage=${HEAP_PERCENT} -XX:MaxRAMPercentage=${HEAP_PERCENT}"
ExecStart=${WSO2_HOME}/${START_COMMAND}
Restart=on-failure
RestartSec=10
LimitNOFILE=65535
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
UNIT

if [[ -f "$ETC/cloudwatch-agent.json" ]]; then
  amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "file:$ETC/cloudwatch-agent.json"
fi

systemctl daemon-reload
systemctl enable --now wso2am.service

log "waiting up to ${HEALTH_TIMEOUT}s for ${HEALTH_PROTOCOL} ${HEALTH_PORT}${HEALTH_PATH}"
deadline=$((SECONDS + HEALTH_TIMEOUT))
until healthy; do
  if ((SECONDS >= deadline)); then
    log "the node did not become healthy in ${HEALTH_TIMEOUT}s"
    false
  fi
  sleep "${HEALTH_INTERVAL:-10}"
done

run_extension after-setup
if [[ "${REPORT_HEALTH:-}" == 1 ]]; then
  log "installing apimkit-health.timer"
  u=$ROOT/etc/systemd/system/apimkit-health
  printf '[Service]\nType=oneshot\nEnvironment=INSTANCE_ID=%s ASG_NAME=%s\nExecStart=%s report-health\n' \
    "$INSTANCE_ID" "$ASG_NAME" "$(readlink -f "$0")" >"$u.service"
  # Checks start once the start-up grace has passed, after a reboot too.
  printf '[Timer]\nOnActiveSec=%s\nOnUnitInactiveSec=60\n[Install]\nWantedBy=timers.target\n' "$HEALTH_TIMEOUT" >"$u.timer"
  systemctl daemon-reload
  systemctl enable --now apimkit-health.timer
fi
log "healthy; completing the launch"
retry 30 complete_lifecycle CONTINUE
# In service, and only now: a deploy waiting on this group goes on to its next node.
signal SUCCESS
rm -rf "$work"
