#!/usr/bin/env bash
# The poisoning experiment of the FL Alliance paper on Fashion-MNIST: the global model's final test
# accuracy for plain FedAvg, FedAvg with the vote, and median with the vote, against label flipping,
# sign flipping and lying voters, at each malicious fraction; every cell a whole `murmur demo` run
# through the real server. Writes the report to bench/results/poisoning-<date>.md (or
# poisoning-quick-<date>.md) and prints it. See bench/README.md.
#
#   bench/run-poisoning.sh [--quick]
#
#   (full)     50 nodes, 10 rounds, eta 0.1 to 0.4: 31 runs, about 8 minutes on a busy 2-core machine
#   --quick    20 nodes, 6 rounds, eta 0.2 and 0.4: 17 runs, about 2 minutes there
#
# Needs Debian's dataset-fashion-mnist (installed when missing and run as root). MVN_ARGS adds Maven
# flags (-o to build offline), JAVA picks the java binary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/bench/.work/poisoning"
JAR="$ROOT/bench/target/benchmarks.jar"
JAVA="${JAVA:-java}"

FLAGS=()
NAME="poisoning"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) FLAGS+=(--quick); NAME="poisoning-quick" ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run-poisoning.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

echo "[run-poisoning] building bench/target/benchmarks.jar" >&2
# shellcheck disable=SC2086
mvn -q -B ${MVN_ARGS:-} -DskipTests package -pl bench -am >&2

rm -rf "$WORK"
mkdir -p "$WORK" "$ROOT/bench/results"
"$JAVA" --add-modules jdk.incubator.vector -cp "$JAR" org.murmur.bench.demo.PoisoningExperiment \
  ${FLAGS[@]+"${FLAGS[@]}"} --work "$WORK" > "$WORK/report.md" \
  2> >(grep -v '^WARNING: Using incubator modules' >&2)
OUT="$ROOT/bench/results/$NAME-$(date -u +%Y-%m-%d).md"
cp "$WORK/report.md" "$OUT"
cat "$OUT"
echo "[run-poisoning] recorded $OUT" >&2
