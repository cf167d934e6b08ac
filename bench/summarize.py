#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turns bench/run-bench.sh's results into the tables of docs/BENCHMARKS.md.

Usage: summarize.py RESULTS.jsonl FLOOR.json SUMMARY.md SUMMARY.json COMMAND

Every figure is the median over the runs. Ratios against the peers are
taken within one run (kcourier and the peer measured minutes apart on the
same machine) and then the median of those ratios is shown, so a noisy
minute does not favour one side.
"""
import json
import statistics
import sys
from collections import defaultdict


def load(path):
    by_case = defaultdict(dict)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                row = json.loads(line)
                by_case[row["case"]][row["run"]] = row["result"]
    return by_case


def lat(result, kind, pct):
    return result.get("latency_us", {}).get(kind, {}).get(pct)


def cpu(result, key):
    return result.get("cpu", {}).get(key)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def med(by_case, case, fn):
    return median(fn(r) for r in by_case.get(case, {}).values())


def fmt(v, unit="", digits=0):
    if v is None:
        return "-"
    if unit == "us":
        return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} us"
    return f"{v:,.{digits}f}{unit}"


def errors_of(by_case, case):
    total = defaultdict(int)
    for r in by_case.get(case, {}).values():
        for name, n in r.get("errors", {}).items():
            total[name] += n
    return ", ".join(f"{k} {v}" for k, v in total.items()) or "none"


def matrix(by_case, out):
    out.append("| case | msgs/s | MB/s | ack p50 | ack p99 | ack p99.9 | "
               "ack max | deliver p99 | agent us/msg | errors |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for case in ("lat-256", "lat-1024", "lat-16384", "tput-256",
                 "tput-1024", "tput-16384", "kc-512", "half-512"):
        if case not in by_case:
            continue
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            case,
            fmt(med(by_case, case, lambda r: r.get("msgs_per_s"))),
            fmt(med(by_case, case, lambda r: r.get("payload_mb_per_s")), "", 1),
            fmt(med(by_case, case, lambda r: lat(r, "ack", "p50")), "us"),
            fmt(med(by_case, case, lambda r: lat(r, "ack", "p99")), "us"),
            fmt(med(by_case, case, lambda r: lat(r, "ack", "p999")), "us"),
            fmt(med(by_case, case, lambda r: lat(r, "ack", "max")), "us"),
            fmt(med(by_case, case, lambda r: lat(r, "deliver", "p99")), "us"),
            fmt(med(by_case, case, lambda r: cpu(r, "agent_us_per_msg")), "", 1),
            errors_of(by_case, case)))


def ratio_median(by_case, a, b, fn):
    ratios = []
    for run, ra in by_case.get(a, {}).items():
        rb = by_case.get(b, {}).get(run)
        va, vb = fn(ra), fn(rb) if rb else None
        if va and vb:
            ratios.append(va / vb)
    return median(ratios)


def peers(by_case, out, summary):
    out.append("| target | durability of an ack | msgs/s | ack p99 | "
               "deliver p99 | broker us/msg | kcourier/peer msgs/s | "
               "kcourier/peer ack p99 |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    thr = lambda r: r.get("msgs_per_s")
    p99 = lambda r: lat(r, "ack", "p99")
    for case in ("kc-512", "mosquitto", "nats-js", "nats-core"):
        runs = by_case.get(case)
        if not runs:
            continue
        any_run = next(iter(runs.values()))
        rt = ratio_median(by_case, "kc-512", case, thr)
        rp = ratio_median(by_case, "kc-512", case, p99)
        summary["peers"][case] = {"msgs_per_s": med(by_case, case, thr),
                                  "ack_p99_us": med(by_case, case, p99),
                                  "throughput_ratio": rt, "p99_ratio": rp}
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            any_run.get("target", case), any_run.get("durability", "-"),
            fmt(med(by_case, case, thr)), fmt(med(by_case, case, p99), "us"),
            fmt(med(by_case, case, lambda r: lat(r, "deliver", "p99")), "us"),
            fmt(med(by_case, case, lambda r: cpu(r, "agent_us_per_msg")), "", 1),
            "-" if case == "kc-512" else fmt(rt, "x", 2),
            "-" if case == "kc-512" else fmt(rp, "x", 2)))


def floor_table(by_case, floor, out, summary):
    sizes = {s["size"]: s["floor_us"] for s in floor.get("sizes", [])}
    out.append("| case | payload | agent us/msg | crypto floor us/msg | ratio |")
    out.append("|---|---:|---:|---:|---:|")
    for case, size in (("tput-256", 256), ("kc-512", 512),
                       ("tput-1024", 1024), ("tput-16384", 16384)):
        agent = med(by_case, case, lambda r: cpu(r, "agent_us_per_msg"))
        fl = sizes.get(size)
        ratio = agent / fl if agent and fl else None
        summary["floor"][case] = {"agent_us": agent, "floor_us": fl,
                                  "ratio": ratio}
        out.append(f"| {case} | {size} B | {fmt(agent, '', 1)} | "
                   f"{fmt(fl, '', 2)} | {fmt(ratio, 'x', 1)} |")


def storm(by_case, out, summary):
    rate = lambda r: r.get("connections_per_s")
    kc, ossl = med(by_case, "storm-kc", rate), med(by_case, "storm-ossl", rate)
    ratio = ratio_median(by_case, "storm-kc", "storm-ossl", rate)
    summary["storm"] = {"kcourier": kc, "openssl_s_server": ossl,
                        "ratio": ratio}
    out.append("| server | handshakes/s | handshake p99 | server us/handshake |")
    out.append("|---|---:|---:|---:|")
    for case, name in (("storm-kc", "kcourierd"),
                       ("storm-ossl", "openssl s_server")):
        out.append("| {} | {} | {} | {} |".format(
            name, fmt(med(by_case, case, rate)),
            fmt(med(by_case, case,
                    lambda r: r.get("connect_latency_us", {}).get("p99")), "us"),
            fmt(med(by_case, case, lambda r: cpu(r, "agent_us_per_conn")), "", 0)))
    out.append("")
    out.append(f"kcourierd / s_server handshakes per second: {fmt(ratio, 'x', 2)}")


def main():
    results, floor_path, md_path, json_path, command = sys.argv[1:6]
    by_case = load(results)
    with open(floor_path) as f:
        floor = json.load(f)
    runs = max((len(v) for v in by_case.values()), default=0)
    summary = {"command": command, "runs": runs, "peers": {}, "floor": {}}
    out = [f"Command: `{command}` ({runs} runs; medians)", ""]
    out += ["### Matrix", ""]
    matrix(by_case, out)
    out += ["", "### Side by side: 32 pairs, 512 B, window 16, mutual TLS 1.3",
            ""]
    peers(by_case, out, summary)
    half = med(by_case, "half-512", lambda r: lat(r, "ack", "p99"))
    summary["half_rate_ack_p99_us"] = half
    out += ["", f"Ack p99 at half of kcourier's maximum rate: {fmt(half, 'us')}"
            " (target: below 1 ms)", "", "### Agent CPU against the crypto floor",
            ""]
    floor_table(by_case, floor, out, summary)
    out += ["", "### New mutual-TLS connections", ""]
    storm(by_case, out, summary)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)
    with open(json_path, "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
