#!/usr/bin/env bash
# Runs the CUDA contract suites on a GPU machine that has neither Java nor Maven.
#
#   bench/gpu-check.sh prepare   here: builds the kernels (with nvcc, so the jar holds the fatbin),
#                                and writes the bundle to .device/gpu-check (git-ignored): a Java
#                                runtime jlinked from the Temurin 25 JDK, which needs only glibc
#                                2.17 and runs Java 17 jars, plus the kernels jar, its test jar and
#                                their test classpath, JCuda's natives cut down to the driver
#                                library. Prints the bundle's size, which must stay under the 64 MiB
#                                a device call carries.
#   bench/gpu-check.sh run       there, from the repository root with .device/gpu-check carried:
#                                unpacks the runtime, prints nvidia-smi, runs GpuCheck (every test
#                                of org.murmur.kernels.cuda) and exits with its status; the whole
#                                output is also written to $OUT/gpu-check.log when $OUT is set.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$root/.device/gpu-check
jdk=/usr/lib/jvm/temurin-25-jdk-amd64
modules=java.base,java.logging,jdk.incubator.vector,jdk.unsupported,jdk.zipfs
carry_limit=$((64 << 20))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

prepare() {
    command -v nvcc > /dev/null || { echo "nvcc is not on the PATH: the kernels jar would hold no CUDA kernels" >&2; exit 1; }
    rm -rf "$bundle"
    mkdir -p "$bundle/lib"

    (cd "$root" && mvn -q -B -o -pl kernels -am package -DskipTests)
    (cd "$root" && mvn -q -B -o -pl kernels -am org.apache.maven.plugins:maven-dependency-plugin:2.8:build-classpath \
        -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath")
    cp "$root"/kernels/target/murmur-kernels-*.jar "$bundle/lib/"
    tr ':' '\n' < "$work/classpath" | while read -r jar || [[ -n $jar ]]; do
        case $jar in
            *jcuda-natives-*)
                # Only the driver API's library: NVRTC and the PTX compiler (24 MB) are never used.
                local name
                name=$(basename "$jar" .jar)
                mkdir -p "$work/natives"
                (cd "$work/natives" && "$jdk/bin/jar" xf "$jar" "lib/libJCudaDriver-${name#jcuda-natives-}.so")
                "$jdk/bin/jar" cf "$bundle/lib/$(basename "$jar")" -C "$work/natives" lib
                ;;
            *) cp "$jar" "$bundle/lib/" ;;
        esac
    done

    "$jdk/bin/jlink" --add-modules "$modules" --compress=zip-6 --strip-debug --no-header-files --no-man-pages \
        --output "$work/runtime"
    tar -C "$work" -czf "$bundle/runtime.tar.gz" runtime

    local bytes
    bytes=$(du -sb "$bundle" | cut -f1)
    echo "bundle: $bundle, $((bytes / 1024)) KiB ($(ls "$bundle/lib" | wc -l) jars and the runtime)"
    if ((bytes > carry_limit)); then
        echo "the bundle is over the $((carry_limit >> 20)) MiB a device call carries" >&2
        exit 1
    fi
}

run() {
    [[ -f $bundle/runtime.tar.gz ]] || { echo "no bundle at $bundle: run 'bench/gpu-check.sh prepare' first and carry .device/gpu-check" >&2; exit 1; }
    tar -C "$work" -xzf "$bundle/runtime.tar.gz"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    fi
    # JCuda unpacks its native library into java.io.tmpdir.
    "$work/runtime/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir="$work" \
        -cp "$bundle/lib/*" org.murmur.kernels.cuda.GpuCheck 2>&1 | tee "${OUT:-$work}/gpu-check.log"
}

case ${1:-} in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
