#!/usr/bin/env python3
"""Merges one run of bench/run-rules.sh into one markdown table.

Inputs, all in the work directory: jmh.json (JMH, -rf json), numpy.jsonl (numpy_rules.py),
membw.json (membw.c) and murmur-check-*.json (output fingerprints written by RuleBenchmark).
A rule that Murmur or NumPy did not time shows "n/a". Below the table, the cross-check says
whether Murmur and NumPy produced the same aggregate (16 sampled values and the L2 norm).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import subprocess

RULES = ["fedavg", "median", "trimmed_mean", "krum", "multikrum", "bulyan",
         "geomedian", "centered_clip", "norm_clip_mean"]
UNIT_SECONDS = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}


def load_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def load_jsonl(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    rows.append(json.loads(line))
    except OSError:
        pass
    return rows


def murmur_times(jmh):
    """(rule, n, d) -> (seconds, error in seconds) from JMH's JSON."""
    times = {}
    for entry in jmh:
        if not entry.get("benchmark", "").endswith("RuleBenchmark.aggregate"):
            continue
        p = entry["params"]
        metric = entry["primaryMetric"]
        scale = UNIT_SECONDS.get(metric["scoreUnit"])
        if scale is None:
            continue
        error = metric.get("scoreError")
        error = error * scale if isinstance(error, (int, float)) and error == error else None
        times[(p["rule"], int(p["n"]), int(p["d"]))] = (metric["score"] * scale, error)
    return times


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = {}
        for line in out.splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        if "Model name" in fields:
            return f"{fields['Model name']} (family {fields.get('CPU family', '?')}, model {fields.get('Model', '?')})"
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def jdk_version(jmh):
    for entry in jmh:
        if "jdkVersion" in entry:
            return f"{entry.get('vmName', 'JVM')} {entry['jdkVersion']} ({entry.get('vmVersion', '')})".strip()
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
        return out.splitlines()[0] if out else "unknown"
    except OSError:
        return "unknown"


def fmt_d(d):
    return f"{d // 1_000_000}M" if d % 1_000_000 == 0 else str(d)


def fmt_s(seconds):
    if seconds is None:
        return "n/a"
    return f"{seconds:.4f}" if seconds < 10 else f"{seconds:.2f}"


def agree(murmur, numpy_row):
    """True when the two fingerprints match within float32 reduction-order tolerances."""
    a, b = murmur["samples"], numpy_row["samples"]
    if len(a) != len(b):
        return False
    if any(abs(x - y) > 1e-3 + 1e-3 * abs(y) for x, y in zip(a, b)):
        return False
    return abs(murmur["l2"] - numpy_row["l2"]) <= 1e-3 * max(1e-12, numpy_row["l2"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default="bench/.work")
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--n", default="10,50")
    parser.add_argument("--d", default="1000000,10000000")
    parser.add_argument("--title", default="Murmur CPU backend vs NumPy (OpenBLAS), aggregation rules")
    args = parser.parse_args()

    jmh = load_json(os.path.join(args.work, "jmh.json"), [])
    numpy_rows = load_jsonl(os.path.join(args.work, "numpy.jsonl"))
    membw = load_json(os.path.join(args.work, "membw.json"), {})
    checks = {}
    for path in glob.glob(os.path.join(args.work, "murmur-check-*.json")):
        c = load_json(path, None)
        if c:
            checks[(c["rule"], int(c["n"]), int(c["d"]))] = c

    murmur = murmur_times(jmh)
    meta = next((r for r in numpy_rows if r.get("meta")), {})
    numpy_res = {(r["rule"], int(r["n"]), int(r["d"])): r for r in numpy_rows if not r.get("meta")}
    bandwidth = membw.get("best_gbps")

    rules = [r for r in args.rules.split(",") if r]
    ns = [int(v) for v in args.n.split(",") if v]
    ds = [int(v) for v in args.d.split(",") if v]

    ob = meta.get("openblas", {})
    openblas = ob.get("config", meta.get("blas_version", "?"))
    lines = [f"## {args.title}", ""]
    lines.append(f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    lines.append(f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs ({platform.machine()}, Linux {platform.release()})")
    lines.append(f"- JDK: {jdk_version(jmh)}")
    lines.append(f"- NumPy {meta.get('numpy', '?')} (Python {meta.get('python', '?')}) on {meta.get('blas_name', '?')}: "
                 f"{openblas}, core {ob.get('corename', '?')}, {ob.get('threads', '?')} threads")
    if bandwidth:
        lines.append(f"- Memory read bandwidth: {bandwidth:.1f} GB/s (membw.c: best of {membw.get('passes')} sums of "
                     f"{membw.get('bytes', 0) / 2**30:.0f} GiB with {membw.get('threads')} threads; "
                     f"median {membw.get('median_gbps', 0):.1f} GB/s)")
    else:
        lines.append("- Memory read bandwidth: n/a")
    lines.append("- Murmur: JMH average time per aggregate (CpuBackend, all cores, updates memory-mapped from the "
                 "data file); NumPy: best of 3 wall times, data already loaded. GB/s = n·d·4 bytes / Murmur time.")
    lines.append("")
    lines.append("| rule | n | d | Murmur s | NumPy s | NumPy/Murmur (speed-up) | Murmur GB/s | % of read bandwidth |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    agreed, differed, unchecked = [], [], []
    for rule in rules:
        for n in ns:
            for d in ds:
                key = (rule, n, d)
                m = murmur.get(key)
                np_row = numpy_res.get(key)
                m_s = m[0] if m else None
                np_s = np_row["seconds"] if np_row else None
                ratio = f"{np_s / m_s:.2f}×" if m_s and np_s else "n/a"
                gbps = n * d * 4 / m_s / 1e9 if m_s else None
                gbps_s = f"{gbps:.1f}" if gbps is not None else "n/a"
                share = f"{100 * gbps / bandwidth:.0f}%" if gbps is not None and bandwidth else "n/a"
                lines.append(f"| {rule} | {n} | {fmt_d(d)} | {fmt_s(m_s)} | {fmt_s(np_s)} | {ratio} | {gbps_s} | {share} |")
                label = f"{rule} n={n} d={fmt_d(d)}"
                if key in checks and np_row and "samples" in np_row:
                    (agreed if agree(checks[key], np_row) else differed).append(label)
                elif m_s is not None or np_s is not None:
                    unchecked.append(label)
    lines.append("")
    summary = f"Cross-check (Murmur output vs NumPy output, 16 samples and L2 norm): {len(agreed)} agree"
    if differed:
        summary += f", **{len(differed)} DIFFER: {', '.join(differed)}**"
    if unchecked:
        summary += f", {len(unchecked)} not checked (a side is missing)"
    lines.append(summary + ".")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
