#!/usr/bin/env bash
# Murmur's loopback ingest: nodes push big updates at once to a server in its own JVM (-Xmx256m),
# which then aggregates them; prints throughput, the server's heap and RSS, the time from the last
# receipt to the aggregate and where the CPU went, as markdown tables. See bench/README.md.
#
#   bench/run-ingest.sh [--quick] [--record] [--keep] [--profile] [--dtype f32|bf16]
#
#   --quick    2 updates of 256 MiB only (a smoke run)
#   --record   also write the report to bench/results/ingest-<date>.md, with each target met or missed
#   --keep     keep the generated updates (reused by the next run) and the server's data
#   --profile  record every server's ingest with JFR and show where its time went (a full run
#              always does so for the concurrent-4x1g runs, to explain their throughput)
#   --dtype    the updates' element type (default f32)
#
# MVN_ARGS adds Maven flags (-o to build offline), JAVA picks the java binary. Run it on an idle
# machine: the client and the server share its cores, and the server's writes its disk.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/bench/.work/ingest"
JAR="$ROOT/bench/target/benchmarks.jar"
JAVA="${JAVA:-java}"
TMPFS="${TMPFS:-/dev/shm}"
GIB=$((1 << 30))

QUICK=0
RECORD=0
PROFILE=0
DRIVER_FLAGS=()
DTYPE=f32
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --record) RECORD=1 ;;
    --keep) DRIVER_FLAGS+=(--keep) ;;
    --profile) PROFILE=1 ;;
    --dtype) DTYPE="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run-ingest.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$DTYPE" in
  f32) ELEMENT=4 ;;
  bf16) ELEMENT=2 ;;
  *) echo "run-ingest.sh: --dtype must be f32 or bf16" >&2; exit 2 ;;
esac

log() { echo "[run-ingest] $*" >&2; }

# name, updates, bytes per update, streams at once, where the server's data goes (disk, or a
# tmpfs as a diagnostic). The two held-* runs differ only in the number of updates the server holds.
if [[ $QUICK == 1 ]]; then
  SCENARIOS=("quick-2x256m 2 $((256 << 20)) 2 disk")
else
  SCENARIOS=("held-2x256m 2 $((256 << 20)) 2 disk"
             "held-8x256m 8 $((256 << 20)) 2 disk"
             "concurrent-4x1g 4 $GIB 4 disk"
             "single-1x4g 1 $((4 * GIB)) 1 disk"
             "concurrent-4x1g-tmpfs 4 $GIB 4 tmpfs")
fi

mkdir -p "$WORK/inputs"
avail() { df -B1 --output=avail "$1" | tail -1 | tr -d ' '; }
gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 2^30 }'; }

# Bytes a scenario writes: the inputs not cached yet, the server's copies, the aggregate's float32
# scratch vector and its output, plus 1 GiB of slack (the store keeps 64 MiB free on its own).
# Prints "<bytes on the work disk> <bytes on the server's data file system>".
need() {
  local k="$1" bytes="$2" where="$3" cached server
  cached=$(find "$WORK/inputs" -name "update-$DTYPE-$bytes-*.safetensors" 2>/dev/null | wc -l)
  local inputs=$(( (k > cached ? k - cached : 0) * bytes ))
  server=$(( k * bytes + bytes / ELEMENT * 4 + bytes + GIB ))
  if [[ $where == disk ]]; then
    echo "$((inputs + server)) 0"
  else
    echo "$((inputs + GIB)) $server"
  fi
}

# Whether a scenario fits on the work disk (and, with its data on the tmpfs, there and in memory);
# says what is missing when it does not.
fits() {
  local name="$1" k="$2" bytes="$3" where="$5" disk tmpfs
  read -r disk tmpfs < <(need "$k" "$bytes" "$where")
  if (( disk > $(avail "$WORK") )); then
    log "scenario $name needs $(gib "$disk") free on $(df --output=target "$WORK" | tail -1) (bench/.work);"
    log "only $(gib "$(avail "$WORK")") is free. Free some space, or run --quick."
    return 1
  fi
  if [[ $where == tmpfs ]]; then
    # a tmpfs lives in memory: leave 2 GiB for everything else
    local room memory
    room=$(avail "$TMPFS")
    memory=$(( $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024 - 2 * GIB ))
    if (( memory < room )); then
      room=$memory
    fi
    if (( tmpfs > room )); then
      log "scenario $name needs $(gib "$tmpfs") on $TMPFS and in memory; only $(gib "$room") is free."
      return 1
    fi
  fi
}

CHECKED=()
for scenario in "${SCENARIOS[@]}"; do
  read -r name k bytes streams where <<< "$scenario"
  if [[ $where == tmpfs && ! -d $TMPFS ]]; then
    log "no $TMPFS: skipping $name, the diagnostic run with the server's data in memory"
  elif fits "$name" "$k" "$bytes" "$streams" "$where"; then
    CHECKED+=("$scenario")
  elif [[ $where == tmpfs ]]; then
    log "skipping $name (a diagnostic, not a target)"
  else
    exit 1
  fi
done
SCENARIOS=("${CHECKED[@]}")

log "building bench/target/benchmarks.jar"
# shellcheck disable=SC2086
mvn -q -B ${MVN_ARGS:-} -DskipTests package -pl bench -am >&2

rm -rf "$WORK/results"
for scenario in "${SCENARIOS[@]}"; do
  read -r name k bytes streams where <<< "$scenario"
  if ! fits "$name" "$k" "$bytes" "$streams" "$where"; then # again: other work may have filled the disk since
    [[ $where == tmpfs ]] && continue
    exit 1
  fi
  log "scenario $name: $k x $(gib "$bytes") $DTYPE, server data on $where"
  RUN_FLAGS=()
  if [[ $where == tmpfs ]]; then
    RUN_FLAGS=(--data-root "$TMPFS")
  fi
  if [[ $PROFILE == 1 || $name == concurrent-4x1g* ]]; then
    RUN_FLAGS+=(--profile)
  fi
  if ! "$JAVA" --add-modules=jdk.incubator.vector -Xmx1g -cp "$JAR" org.murmur.bench.ingest.IngestDriver \
      --scenario "$name" --updates "$k" --concurrency "$streams" --size "$bytes" --dtype "$DTYPE" --work "$WORK" \
      ${RUN_FLAGS[@]+"${RUN_FLAGS[@]}"} ${DRIVER_FLAGS[@]+"${DRIVER_FLAGS[@]}"} \
      2> >(grep -v '^WARNING: Using incubator modules' >&2) >&2; then
    log "scenario $name failed (see above and $WORK/results/$name.server.log); its missing numbers show as n/a"
  fi
done

REPORT_FLAGS=()
if [[ $QUICK == 1 ]]; then
  REPORT_FLAGS=(--quick)
fi
"$JAVA" -cp "$JAR" org.murmur.bench.ingest.IngestReport --results "$WORK/results" \
  ${REPORT_FLAGS[@]+"${REPORT_FLAGS[@]}"} > "$WORK/report.md"
echo
cat "$WORK/report.md"

if [[ $RECORD == 1 ]]; then
  mkdir -p "$ROOT/bench/results"
  OUT="$ROOT/bench/results/ingest-$(date -u +%Y-%m-%d).md"
  if [[ $QUICK == 1 ]]; then
    OUT="$ROOT/bench/results/ingest-quick-$(date -u +%Y-%m-%d).md"
  fi
  cp "$WORK/report.md" "$OUT"
  log "recorded $OUT"
fi
