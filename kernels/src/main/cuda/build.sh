#!/usr/bin/env bash
# Builds the CUDA side of the kernels module, run by exec-maven-plugin (kernels/pom.xml) in every
# build. With nvcc on the PATH it compiles murmur_kernels.cu into ONE fatbin, a resource of the
# kernels jar: sm_80 and sm_90 machine code, which any driver that runs those devices accepts, plus
# compute_90 PTX for later devices (PTX from nvcc 13.0 needs a CUDA 13.0 driver, so it is never
# the only code). For the tests it builds, in TEST_DIR, the host check of murmur_math.cuh
# (murmur_math_check, run by CudaHostMathTest) and the CPU emulation of the driver and the
# kernels (emulator/libcuda.so.1, for the cuda-emulated test run). Without nvcc it says so, builds
# nothing, and the CUDA backend reports itself unavailable. Outputs are rebuilt only when a source
# (or this script) is newer.
#
# Usage: build.sh FATBIN TEST_DIR
set -euo pipefail

fatbin=$1
host_check=$2/murmur_math_check
emulator=$2/emulator/libcuda.so.1
sources=$(cd "$(dirname "$0")" && pwd)
test_sources=$(cd "$sources/../../test/cuda" && pwd)

if ! command -v nvcc > /dev/null 2>&1; then
    echo "[cuda] nvcc is not on the PATH: building without CUDA kernels (the cuda backend will be unavailable)"
    rm -f "$fatbin" "$host_check" "$emulator"
    exit 0
fi

# True when $1 exists and nothing of the rest is newer.
up_to_date() {
    local target=$1
    shift
    [[ -f $target ]] && [[ -z $(find "$@" -newer "$target") ]]
}

# Writes through a temporary file, so an interrupted build leaves no truncated output behind.
if ! up_to_date "$fatbin" "$0" "$sources"/*.cu "$sources"/*.cuh; then
    echo "[cuda] nvcc: $fatbin"
    mkdir -p "$(dirname "$fatbin")"
    # -fmad=false: no fused multiply-add, so every sum rounds as the CPU backend's Java does.
    nvcc -fatbin -std=c++17 -fmad=false \
        -gencode arch=compute_80,code=sm_80 \
        -gencode arch=compute_90,code=sm_90 \
        -gencode arch=compute_90,code=compute_90 \
        "$sources/murmur_kernels.cu" -o "$fatbin.tmp"
    mv "$fatbin.tmp" "$fatbin"
fi

if ! up_to_date "$host_check" "$0" "$sources"/*.cuh "$test_sources/murmur_math_check.cu"; then
    echo "[cuda] nvcc: $host_check"
    mkdir -p "$(dirname "$host_check")"
    nvcc -std=c++17 -Xcompiler -ffp-contract=off -I"$sources" \
        "$test_sources/murmur_math_check.cu" -o "$host_check.tmp"
    mv "$host_check.tmp" "$host_check"
fi

if ! up_to_date "$emulator" "$0" "$sources"/*.cuh "$test_sources/libcuda_emulator.cu"; then
    echo "[cuda] nvcc: $emulator"
    mkdir -p "$(dirname "$emulator")"
    # As plain C++ (-x c++): a CUDA translation unit would need the CUDA runtime, which needs libcuda.
    nvcc -x c++ -std=c++17 -shared -cudart none -Xcompiler -fPIC,-ffp-contract=off -Xlinker -soname=libcuda.so.1 \
        -I"$sources" "$test_sources/libcuda_emulator.cu" -o "$emulator.tmp"
    mv "$emulator.tmp" "$emulator"
fi
