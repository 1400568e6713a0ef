#!/usr/bin/env bash
# Murmur's CPU backend against NumPy (OpenBLAS) on the same data, plus this machine's memory read
# bandwidth, printed as one markdown table. See bench/README.md.
#
#   bench/run-rules.sh [--quick] [--record] [--rules r1,r2] [--n 10,50] [--d 1000000,10000000]
#
#   --quick   n=10, d=1M only, one warm-up and one measured JMH iteration (a smoke run)
#   --record  also write the table to bench/results/cpu-rules-<date>.md
#
# Run it on an idle machine: any other load makes both timings and the bandwidth meaningless.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/bench/.work"
PEERS="$ROOT/bench/peers"
JAR="$ROOT/bench/target/benchmarks.jar"
PYTHON="${PYTHON:-python3}"

QUICK=0
RECORD=0
RULES="fedavg,median,trimmed_mean,krum,multikrum,bulyan,geomedian,centered_clip,norm_clip_mean"
NS="10,50"
DS="1000000,10000000"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; NS="10"; DS="1000000" ;;
    --record) RECORD=1 ;;
    --rules) RULES="$2"; shift ;;
    --n) NS="$2"; shift ;;
    --d) DS="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run-rules.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[run-rules] $*" >&2; }

log "building bench/target/benchmarks.jar"
mvn -q -B -DskipTests package -pl bench -am >&2

mkdir -p "$WORK"
SIZES=()
for n in ${NS//,/ }; do
  for d in ${DS//,/ }; do
    SIZES+=("$n" "$d")
  done
done
log "data files (reused when present)"
java -Dmurmur.bench.work="$WORK" -cp "$JAR" org.murmur.bench.DataFiles "${SIZES[@]}" >&2

log "memory read bandwidth"
gcc -O3 -march=native -fopenmp "$PEERS/membw.c" -o "$WORK/membw"
"$WORK/membw" 2 "$(nproc)" 10 > "$WORK/membw.json"
cat "$WORK/membw.json" >&2

log "JMH: Murmur CpuBackend"
rm -f "$WORK"/jmh.json "$WORK"/murmur-check-*.json "$WORK"/numpy.jsonl
JMH_ARGS=(-p "rule=$RULES" -p "n=$NS" -p "d=$DS" -rf json -rff "$WORK/jmh.json"
          -jvmArgsAppend "--add-modules=jdk.incubator.vector -Dmurmur.bench.work=$WORK")
if [[ -n "${BENCH_JVM:-}" ]]; then
  JMH_ARGS+=(-jvm "$BENCH_JVM")
fi
if [[ $QUICK == 1 ]]; then
  JMH_ARGS+=(-wi 1 -i 1)
fi
if ! java -Dmurmur.bench.work="$WORK" -jar "$JAR" 'org.murmur.bench.RuleBenchmark' "${JMH_ARGS[@]}" >&2; then
  log "JMH exited with an error; missing Murmur timings will show as n/a"
fi

log "NumPy peer"
NP_SIZES=""
for n in ${NS//,/ }; do
  for d in ${DS//,/ }; do
    NP_SIZES+="${NP_SIZES:+,}${n}x${d}"
  done
done
"$PYTHON" "$PEERS/numpy_rules.py" --work "$WORK" --sizes "$NP_SIZES" --rules "$RULES" > "$WORK/numpy.jsonl"

"$PYTHON" "$PEERS/table.py" --work "$WORK" --rules "$RULES" --n "$NS" --d "$DS" > "$WORK/table.md"
echo
cat "$WORK/table.md"

if [[ $RECORD == 1 ]]; then
  mkdir -p "$ROOT/bench/results"
  OUT="$ROOT/bench/results/cpu-rules-$(date -u +%Y-%m-%d).md"
  if [[ $QUICK == 1 ]]; then
    OUT="$ROOT/bench/results/cpu-rules-quick-$(date -u +%Y-%m-%d).md"
  fi
  cp "$WORK/table.md" "$OUT"
  log "recorded $OUT"
fi
