#!/usr/bin/env bash
# Fuzzes every Jazzer @FuzzTest of the project in turn, each for SECONDS (default 60), and prints
# a markdown table of executions per target. See bench/README.md.
#
#   bench/run-fuzz.sh [SECONDS] [CLASS#METHOD ...]
#
# Without a CLASS#METHOD, every target runs. Jazzer fuzzes one method per JVM (JAZZER_FUZZ=1), so
# each target is one Maven run of its module; the corpus it grows is kept in
# <module>/.cifuzz-corpus/ (git-ignored) and reused by the next run, and a crashing input is
# written to the module's src/test/resources/<package>/<Class>Inputs/<method>/, where the normal
# build replays it as a regression test from then on. Logs go to bench/.work/fuzz/. Exits 1 when
# a target found something. MVN_ARGS adds Maven flags (-o to build offline).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/bench/.work/fuzz"
SECONDS_PER_TARGET=60
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
  SECONDS_PER_TARGET="$1"
  shift
fi

# module:class#method, the module owning the code under test.
ALL=(
  proto:org.murmur.proto.safetensors.SafetensorsFuzzTest#anyFile
  proto:org.murmur.proto.safetensors.SafetensorsFuzzTest#framedHeader
  proto:org.murmur.proto.identity.SignatureFuzzTest#canonicalPayload
  proto:org.murmur.proto.identity.SignatureFuzzTest#aSignatureCoversEveryField
  proto:org.murmur.proto.identity.SignatureFuzzTest#fuzzedKeysAndSignatures
  server:org.murmur.server.grpc.UploadFuzzTest#pushUpdate
  server:org.murmur.server.ledger.LedgerFileFuzzTest#anyFile
  server:org.murmur.server.ledger.LedgerFileFuzzTest#afterAValidHeader
  server:org.murmur.server.ledger.LedgerFileFuzzTest#recordChains
  server:org.murmur.server.round.LedgerReplayFuzzTest#events
)
TARGETS=()
if [[ $# -eq 0 ]]; then
  TARGETS=("${ALL[@]}")
else
  for wanted in "$@"; do
    match=""
    for t in "${ALL[@]}"; do
      [[ "${t#*:}" == *"$wanted" ]] && match="$t"
    done
    [[ -n "$match" ]] || { echo "run-fuzz: no target $wanted" >&2; exit 2; }
    TARGETS+=("$match")
  done
fi

mkdir -p "$WORK"
echo "Fuzzing ${#TARGETS[@]} target(s), ${SECONDS_PER_TARGET} s each, on $(nproc) cores ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "| target | seconds | executions | exec/s | result |"
echo "| --- | ---: | ---: | ---: | --- |"
status=0
for t in "${TARGETS[@]}"; do
  module="${t%%:*}"
  test="${t#*:}"
  name="${test##*.}"
  log="$WORK/${name//#/.}.log"
  set +e
  # libFuzzer checks max_duration between inputs, and its per-input timeout stays at its default
  # (20 min: JUnit's @Timeout, which Jazzer would pass on, also cuts the whole fuzzing run short).
  # An input that hangs is therefore caught here: the build, then the run, then 10 minutes more.
  JAZZER_FUZZ=1 timeout --kill-after=30 $((SECONDS_PER_TARGET + 900)) \
    mvn -B -q ${MVN_ARGS:-} -pl "$module" -am test -Dtest="$test" \
    -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.max_duration="${SECONDS_PER_TARGET}s" >"$log" 2>&1
  rc=$?
  set -e
  # libFuzzer's last words: "Done 12345 runs in 61 second(s)".
  done_line="$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)"
  runs="$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/' <<<"$done_line")"
  took="$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/' <<<"$done_line")"
  crash="$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)"
  if [[ -n "$crash" ]]; then
    result="finding: ${crash#"$ROOT/"}"
    status=1
  elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
    result="no end after $((SECONDS_PER_TARGET + 900)) s (an input that hangs?), see ${log#"$ROOT/"}"
    status=1
  elif [[ $rc -ne 0 || -z "$done_line" ]]; then
    result="failed (exit $rc), see ${log#"$ROOT/"}"
    status=1
  else
    result="no finding"
  fi
  rate="-"
  [[ -n "$runs" && -n "$took" && "$took" -gt 0 ]] && rate=$((runs / took))
  echo "| $test | ${took:--} | ${runs:--} | $rate | $result |"
done
exit $status
