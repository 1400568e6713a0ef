#!/usr/bin/env python3
"""The aggregation rules as Python FL servers write them in NumPy, timed on Murmur's data files.

Each rule is the plain NumPy a Flower or NVFlare strategy would contain: the updates as one
(n, d) float32 array loaded with ``np.fromfile(...).reshape(n, d)``, the weighted average as
``w @ X / w.sum()``, the median as ``np.median(X, axis=0)``, the trimmed mean by sorting and
slicing, Krum from the Gram matrix, and straightforward NumPy for the rest. Parameters are those
of ``org.murmur.bench.BenchRules`` (see ``params``).

Each rule runs ``--repeat`` times (default 3) and the best wall time (time.perf_counter, file
loading excluded) is reported. Output: one JSON line per (rule, n, d), preceded by one ``meta``
line describing NumPy and the OpenBLAS it runs on. Each result line also carries a fingerprint of
the output (L2 norm and 16 sampled values) for the cross-check against Murmur.

    numpy_rules.py --work bench/.work --sizes 10x1000000,50x10000000 [--rules fedavg,median]
"""
import argparse
import ctypes
import gc
import json
import math
import os
import sys
import time

import numpy as np

RULES = ["fedavg", "median", "trimmed_mean", "krum", "multikrum", "bulyan",
         "geomedian", "centered_clip", "norm_clip_mean"]
SAMPLES = 16


def params(rule, n, d):
    """The same parameters as BenchRules.spec on the Java side."""
    f = n // 10
    if rule == "fedavg":
        return {"weights": np.arange(1, n + 1, dtype=np.float32)}
    if rule == "trimmed_mean":
        return {"k": n // 10}
    if rule == "krum":
        return {"f": f}
    if rule == "multikrum":
        return {"f": f, "m": n - f}
    if rule == "bulyan":
        return {"f": min((n - 3) // 4, n // 10)}
    if rule == "geomedian":
        return {"maxiter": 10, "eps": 1e-8, "tol": 0.0}
    if rule == "centered_clip":
        return {"tau": math.sqrt(d), "iters": 3}
    if rule == "norm_clip_mean":
        return {"c": math.sqrt(d)}
    return {}


# ---- the rules ----------------------------------------------------------------------------

def fedavg(X, weights):
    return weights @ X / weights.sum()


def median(X):
    return np.median(X, axis=0)


def trimmed_mean(X, k):
    n = X.shape[0]
    return np.sort(X, axis=0)[k:n - k].mean(axis=0)


def pairwise_sq_distances(X):
    G = X @ X.T
    sq = np.diag(G)
    return sq[:, None] + sq[None, :] - 2 * G


def krum_scores(D, f):
    n = D.shape[0]
    # Column 0 of each sorted row is the distance to itself (0); sum the next n-f-2.
    return np.sort(D, axis=1)[:, 1:n - f - 1].sum(axis=1)


def krum(X, f):
    scores = krum_scores(pairwise_sq_distances(X), f)
    return X[int(np.argmin(scores))].copy()


def multikrum(X, f, m):
    scores = krum_scores(pairwise_sq_distances(X), f)
    return X[np.argsort(scores, kind="stable")[:m]].mean(axis=0)


def bulyan(X, f):
    n = X.shape[0]
    theta = n - 2 * f
    beta = theta - 2 * f
    D = pairwise_sq_distances(X)
    remaining = list(range(n))
    selected = []
    while len(selected) < theta:
        r = len(remaining)
        k = max(0, r - f - 2)
        sub = D[np.ix_(remaining, remaining)]
        scores = np.sort(sub, axis=1)[:, 1:k + 1].sum(axis=1)
        winner = remaining[int(np.argmin(scores))]
        selected.append(winner)
        remaining.remove(winner)
    S = X[selected]
    med = np.median(S, axis=0)
    closest = np.argsort(np.abs(S - med), axis=0, kind="stable")[:beta]
    return np.take_along_axis(S, closest, axis=0).mean(axis=0)


def geomedian(X, maxiter, eps, tol):
    z = X.mean(axis=0)
    for _ in range(maxiter):
        distances = np.linalg.norm(X - z, axis=1)
        w = 1.0 / np.maximum(eps, distances)
        z_new = w @ X / w.sum()
        done = np.linalg.norm(z_new - z) <= tol * np.linalg.norm(z)
        z = z_new
        if done:
            break
    return z


def centered_clip(X, tau, iters):
    v = X.mean(axis=0)
    for _ in range(iters):
        diff = X - v
        norms = np.linalg.norm(diff, axis=1)
        scale = np.where(norms > 0, np.minimum(1.0, tau / np.where(norms > 0, norms, 1.0)), 1.0)
        v = v + (diff * scale[:, None].astype(X.dtype)).mean(axis=0)
    return v


def norm_clip_mean(X, c):
    norms = np.linalg.norm(X, axis=1)
    scale = np.where(norms > 0, np.minimum(1.0, c / np.where(norms > 0, norms, 1.0)), 1.0)
    return (X * scale[:, None].astype(X.dtype)).mean(axis=0)


FUNCTIONS = {
    "fedavg": fedavg, "median": median, "trimmed_mean": trimmed_mean, "krum": krum,
    "multikrum": multikrum, "bulyan": bulyan, "geomedian": geomedian,
    "centered_clip": centered_clip, "norm_clip_mean": norm_clip_mean,
}


# ---- environment --------------------------------------------------------------------------

def openblas_runtime():
    """Config string, core type and thread count of the OpenBLAS loaded into this process."""
    info = {}
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "openblas" in path.lower() and path.startswith("/"):
                paths.add(path)
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                               ("openblas", "")):
            try:
                config = getattr(lib, f"{prefix}_get_config{suffix}")
                corename = getattr(lib, f"{prefix}_get_corename{suffix}")
                threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
            except AttributeError:
                continue
            config.restype = ctypes.c_char_p
            corename.restype = ctypes.c_char_p
            threads.restype = ctypes.c_int
            info = {"library": os.path.basename(path), "config": config().decode(),
                    "corename": corename().decode(), "threads": threads()}
            break
    return info


def meta():
    blas = {}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older NumPy: no dict mode
        pass
    runtime = openblas_runtime()
    return {"meta": True, "numpy": np.__version__, "python": sys.version.split()[0],
            "blas_name": blas.get("name", "?"), "blas_version": blas.get("version", "?"),
            "openblas": runtime}


# ---- driver -------------------------------------------------------------------------------

def fingerprint(result, d):
    result = np.asarray(result, dtype=np.float64)
    idx = [s * (d - 1) // (SAMPLES - 1) for s in range(SAMPLES)]
    return {"l2": float(np.sqrt(np.dot(result, result))), "samples": [float(result[i]) for i in idx]}


def run(work, n, d, rules, repeat):
    path = os.path.join(work, f"data-n{n}-d{d}.f32")
    if not os.path.exists(path) or os.path.getsize(path) != n * d * 4:
        raise SystemExit(f"numpy_rules: {path} is missing or has the wrong size; run DataFiles first")
    X = np.fromfile(path, dtype="<f4").reshape(n, d)
    for rule in rules:
        kwargs = params(rule, n, d)
        fn = FUNCTIONS[rule]
        times = []
        result = None
        for _ in range(repeat):
            result = None
            gc.collect()
            t0 = time.perf_counter()
            result = fn(X, **kwargs)
            times.append(time.perf_counter() - t0)
        line = {"rule": rule, "n": n, "d": d, "seconds": min(times), "all_seconds": times,
                "dtype": str(np.asarray(result).dtype)}
        line.update(fingerprint(result, d))
        print(json.dumps(line), flush=True)
    del X
    gc.collect()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="bench/.work")
    parser.add_argument("--sizes", default="10x1000000,50x1000000,10x10000000,50x10000000",
                        help="comma-separated NxD")
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rules = [r for r in args.rules.split(",") if r]
    for r in rules:
        if r not in FUNCTIONS:
            raise SystemExit(f"numpy_rules: unknown rule {r}")
    info = meta()
    print(json.dumps(info), flush=True)
    if info["blas_name"] != "scipy-openblas" and "openblas" not in info["blas_name"].lower():
        print(f"numpy_rules: warning: NumPy is built on {info['blas_name']}, not OpenBLAS", file=sys.stderr)
    for size in args.sizes.split(","):
        n, d = (int(v) for v in size.lower().split("x"))
        run(args.work, n, d, rules, args.repeat)


if __name__ == "__main__":
    main()
