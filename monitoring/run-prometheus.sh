#!/usr/bin/env bash
# Starts Debian's prometheus (apt-get install prometheus) with monitoring/prometheus/prometheus.yml
# and its alert rules, scraping a local Murmur server, and prints its URL. Its data goes under
# monitoring/.data/ (git-ignored). Ctrl-C stops it.
#
#   monitoring/run-prometheus.sh [--target HOST:PORT] [--port PORT] [--serve]
#
#   --target HOST:PORT  the server's metrics endpoint (default localhost:9464, the default
#                       --metrics-port of `./murmur serve`)
#   --port PORT         where Prometheus listens (default 9090)
#   --serve             also run `./murmur serve` (gRPC on 7443, data in monitoring/.data/murmur-data,
#                       metrics on the target's port), stopped with Prometheus
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
state="$here/.data"
target="localhost:9464"
port=9090
serve=0

while (($#)); do
  case "$1" in
    --target) target="${2:?--target needs HOST:PORT}"; shift 2 ;;
    --port) port="${2:?--port needs a port}"; shift 2 ;;
    --serve) serve=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run-prometheus: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$target" =~ ^[A-Za-z0-9._-]+:[0-9]+$ ]] || { echo "run-prometheus: --target must be HOST:PORT, got '$target'" >&2; exit 2; }
[[ "$port" =~ ^[0-9]+$ ]] || { echo "run-prometheus: --port must be a number, got '$port'" >&2; exit 2; }
command -v prometheus >/dev/null || {
  echo "run-prometheus: prometheus is not installed; on Debian 12: sudo apt-get install prometheus" >&2
  exit 3
}

if command -v curl >/dev/null && curl -fs -o /dev/null --max-time 2 "http://localhost:$port/-/ready"; then
  echo "run-prometheus: a Prometheus already answers on port $port (Debian's prometheus service starts" \
    "on 9090 when installed: sudo systemctl stop prometheus); choose another with --port" >&2
  exit 3
fi

# The shipped configuration, with the target and the rules' absolute path.
mkdir -p "$state/prometheus"
config="$state/prometheus.yml"
sed -e "s#localhost:9464#$target#" -e "s#- alerts.yml#- '$here/prometheus/alerts.yml'#" \
  "$here/prometheus/prometheus.yml" >"$config"
if command -v promtool >/dev/null; then
  promtool check config "$config" >/dev/null || { promtool check config "$config"; exit 3; }
fi

server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
if ((serve)); then
  mkdir -p "$state/murmur-data"
  "$root/murmur" serve --data-dir "$state/murmur-data" --metrics-port "${target##*:}" \
    >"$state/murmur-serve.log" 2>&1 &
  server_pid=$!
  trap stop_server EXIT
  echo "run-prometheus: started ./murmur serve (pid $server_pid, log $state/murmur-serve.log)"
fi

if command -v curl >/dev/null && ! ((serve)) && ! curl -fs -o /dev/null --max-time 2 "http://$target/metrics"; then
  echo "run-prometheus: nothing answers at http://$target/metrics yet; start the server, e.g." \
    "./murmur serve --metrics-port ${target##*:} (or use --serve)" >&2
fi

echo "run-prometheus: Prometheus on http://localhost:$port (targets: /targets, alerts: /alerts)," \
  "scraping http://$target/metrics; data in $state/prometheus, log in $state/prometheus.log"
prometheus --config.file="$config" --storage.tsdb.path="$state/prometheus" \
  --web.listen-address="localhost:$port" 2>>"$state/prometheus.log" &
prometheus_pid=$!
# Background commands ignore Ctrl-C in a script: pass it on as SIGTERM, and wait for the end.
trap 'kill -TERM "$prometheus_pid" 2>/dev/null || true' INT TERM
rc=0
while kill -0 "$prometheus_pid" 2>/dev/null; do
  wait "$prometheus_pid" || rc=$?
done
if ((rc != 0 && rc < 128)); then
  echo "run-prometheus: prometheus exited with $rc; the end of its log:" >&2
  tail -n 5 "$state/prometheus.log" >&2
  exit "$rc"
fi
