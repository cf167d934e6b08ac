#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turns bench/run-bench.sh's results into the tables of docs/BENCHMARKS.md.

Usage: summarize.py RESULTS.jsonl FLOOR.json SUMMARY.md SUMMARY.json COMMAND

Every figure is the median over the runs. Ratios against the peers are
taken within one run and one mode (kcourier and the peer measured minutes
apart on the same machine) and then the median of those ratios is shown,
so a noisy minute does not favour one side.

Each mode (pinned, unpinned) gets its own tables. Every run also tells
how much of its core the load generator used over the measured interval
("load_core"); a run above LOAD_LIMIT is flagged, in its table and in a
list at the end: there the figure measures the load generator, not the
server.

On a machine shared with other work no server may reach its core, so the
tables also give the load generator's CPU per message divided by the
server's: the share of its core the load generator needs to keep the
server at 100 % of its own. Cases where that exceeds LOAD_LIMIT are
listed at the end too: at the server's maximum the load generator would
be the limit.
"""
import json
import statistics
import sys
from collections import defaultdict

# Above this share of its core, a load generator may be what limits.
LOAD_LIMIT = 0.90
LIMIT_TEXT = f"{100 * LOAD_LIMIT:.0f} %"
MODES = ("pinned", "unpinned")
MODE_TITLES = {
    "pinned": "Pinned: each server on one CPU with one worker, "
              "the load generator on another",
    "unpinned": "Unpinned: two workers, nothing pinned, every process "
                "on every CPU",
}
MATRIX_CASES = ("lat-256", "lat-1024", "lat-16384", "tput-256",
                "tput-1024", "tput-16384", "kc-512", "half-512")
PEER_CASES = ("kc-512", "mosquitto", "nats-js", "nats-core")
STORM_CASES = (("storm-kc", "kcourierd"), ("storm-ossl", "openssl s_server"),
               ("storm-nginx", "nginx"))
IDLE_CASES = (("idle-kc", "kcourierd"), ("idle-mosq", "mosquitto"))


def load(path):
    """{mode: {case: {run: row}}}; rows without a mode are unpinned."""
    by_mode = defaultdict(lambda: defaultdict(dict))
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                row = json.loads(line)
                mode = row.get("mode", "unpinned")
                by_mode[mode][row["case"]][row["run"]] = row
    return by_mode


def lat(row, kind, pct):
    return row["result"].get("latency_us", {}).get(kind, {}).get(pct)


def cpu(row, key):
    return row["result"].get("cpu", {}).get(key)


def res(key):
    return lambda row: row["result"].get(key)


def share(key):
    """A process's CPU over the measured interval as a share of one core."""
    def get(row):
        seconds, elapsed = cpu(row, key), row["result"].get("elapsed_s")
        return seconds / elapsed if seconds is not None and elapsed else None
    return get


def load_share(row):
    return row.get("load_core", share("tool_s")(row))


def unit_of(row):
    return "conn" if row["result"].get("shape", {}).get("connect_storm") \
        else "msg"


def at_server_max(row):
    """Load CPU per message over server CPU per message, one run."""
    unit = unit_of(row)
    load, server = (cpu(row, f"{who}_us_per_{unit}")
                    for who in ("tool", "agent"))
    return load / server if load and server else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def med(cases, case, fn):
    return median(fn(r) for r in cases.get(case, {}).values())


def fmt(v, unit="", digits=0):
    if v is None:
        return "-"
    if unit == "us":
        return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} us"
    if unit == "%":
        return f"{100 * v:.0f} %"
    return f"{v:,.{digits}f}{unit}"


def load_cell(cases, case):
    """The median share, marked when any run of the case was over."""
    worst = max((load_share(r) or 0 for r in cases.get(case, {}).values()),
                default=0)
    cell = fmt(med(cases, case, load_share), "%")
    return f"**{cell} (!)**" if worst > LOAD_LIMIT else cell


def errors_of(cases, case):
    total = defaultdict(int)
    for r in cases.get(case, {}).values():
        for name, n in r["result"].get("errors", {}).items():
            total[name] += n
    return ", ".join(f"{k} {v}" for k, v in total.items()) or "none"


def matrix(cases, out):
    out.append("| case | msgs/s | MB/s | ack p50 | ack p99 | ack p99.9 | "
               "ack max | deliver p99 | agent us/msg | agent core | "
               "load us/msg | load core | load core at agent 100 % | "
               "errors |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
               "---:|---|")
    for case in MATRIX_CASES:
        if case not in cases:
            continue
        out.append("| " + " | ".join((
            case,
            fmt(med(cases, case, res("msgs_per_s"))),
            fmt(med(cases, case, res("payload_mb_per_s")), "", 1),
            fmt(med(cases, case, lambda r: lat(r, "ack", "p50")), "us"),
            fmt(med(cases, case, lambda r: lat(r, "ack", "p99")), "us"),
            fmt(med(cases, case, lambda r: lat(r, "ack", "p999")), "us"),
            fmt(med(cases, case, lambda r: lat(r, "ack", "max")), "us"),
            fmt(med(cases, case, lambda r: lat(r, "deliver", "p99")), "us"),
            fmt(med(cases, case, lambda r: cpu(r, "agent_us_per_msg")), "", 1),
            fmt(med(cases, case, share("agent_s")), "%"),
            fmt(med(cases, case, lambda r: cpu(r, "tool_us_per_msg")), "", 1),
            load_cell(cases, case),
            fmt(med(cases, case, at_server_max), "%"),
            errors_of(cases, case))) + " |")


def ratio_median(cases, a, b, fn):
    ratios = []
    for run, ra in cases.get(a, {}).items():
        rb = cases.get(b, {}).get(run)
        va, vb = fn(ra), fn(rb) if rb else None
        if va and vb:
            ratios.append(va / vb)
    return median(ratios)


def peers(cases, out, summary):
    out.append("| target | durability of an ack | msgs/s | ack p99 | "
               "deliver p99 | server us/msg | server core | "
               "driver us/msg | driver core | driver core at server 100 % | "
               "kcourier/peer msgs/s | kcourier/peer ack p99 |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    thr = res("msgs_per_s")
    p99 = lambda r: lat(r, "ack", "p99")
    for case in PEER_CASES:
        runs = cases.get(case)
        if not runs:
            continue
        first = next(iter(runs.values()))["result"]
        rt = ratio_median(cases, "kc-512", case, thr)
        rp = ratio_median(cases, "kc-512", case, p99)
        summary[case] = {
            "msgs_per_s": med(cases, case, thr),
            "ack_p99_us": med(cases, case, p99),
            "server_us_per_msg": med(cases, case,
                                     lambda r: cpu(r, "agent_us_per_msg")),
            "server_core": med(cases, case, share("agent_s")),
            "driver_us_per_msg": med(cases, case,
                                     lambda r: cpu(r, "tool_us_per_msg")),
            "driver_core": med(cases, case, load_share),
            "driver_core_at_server_max": med(cases, case, at_server_max),
            "throughput_ratio": rt, "p99_ratio": rp}
        out.append("| " + " | ".join((
            first.get("target", case), first.get("durability", "-"),
            fmt(med(cases, case, thr)), fmt(med(cases, case, p99), "us"),
            fmt(med(cases, case, lambda r: lat(r, "deliver", "p99")), "us"),
            fmt(summary[case]["server_us_per_msg"], "", 1),
            fmt(summary[case]["server_core"], "%"),
            fmt(summary[case]["driver_us_per_msg"], "", 1),
            load_cell(cases, case),
            fmt(summary[case]["driver_core_at_server_max"], "%"),
            "-" if case == "kc-512" else fmt(rt, "x", 2),
            "-" if case == "kc-512" else fmt(rp, "x", 2))) + " |")


def floor_table(cases, floor, out, summary):
    sizes = {s["size"]: s["floor_us"] for s in floor.get("sizes", [])}
    out.append("| case | payload | agent us/msg | crypto floor us/msg "
               "| ratio |")
    out.append("|---|---:|---:|---:|---:|")
    for case, size in (("tput-256", 256), ("kc-512", 512),
                       ("tput-1024", 1024), ("tput-16384", 16384)):
        agent = med(cases, case, lambda r: cpu(r, "agent_us_per_msg"))
        fl = sizes.get(size)
        ratio = agent / fl if agent and fl else None
        summary[case] = {"agent_us": agent, "floor_us": fl, "ratio": ratio}
        out.append(f"| {case} | {size} B | {fmt(agent, '', 1)} | "
                   f"{fmt(fl, '', 2)} | {fmt(ratio, 'x', 1)} |")


def storm(cases, out, summary):
    rate = res("connections_per_s")
    kc, ossl = med(cases, "storm-kc", rate), med(cases, "storm-ossl", rate)
    ngx = med(cases, "storm-nginx", rate)
    ratio = ratio_median(cases, "storm-kc", "storm-ossl", rate)
    ratio_ngx = ratio_median(cases, "storm-kc", "storm-nginx", rate)
    summary.update({"kcourier": kc, "openssl_s_server": ossl, "nginx": ngx,
                    "ratio": ratio, "ratio_nginx": ratio_ngx})
    out.append("| server | handshakes/s | handshake p99 | server us/handshake "
               "| server core | client us/handshake | client core | "
               "client core at server 100 % |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for case, name in STORM_CASES:
        if case not in cases:
            continue
        out.append("| " + " | ".join((
            name, fmt(med(cases, case, rate)),
            fmt(med(cases, case,
                    lambda r: r["result"].get("connect_latency_us", {})
                    .get("p99")), "us"),
            fmt(med(cases, case, lambda r: cpu(r, "agent_us_per_conn"))),
            fmt(med(cases, case, share("agent_s")), "%"),
            fmt(med(cases, case, lambda r: cpu(r, "tool_us_per_conn"))),
            load_cell(cases, case),
            fmt(med(cases, case, at_server_max), "%"))) + " |")
    out.append("")
    out.append("kcourierd / s_server handshakes per second: "
               f"{fmt(ratio, 'x', 2)}; kcourierd / nginx: "
               f"{fmt(ratio_ngx, 'x', 2)} (target: 2x nginx, 1,500/s)")
    # On a shared machine no server reaches its core: 1 s over the CPU of
    # one handshake is what one free core would do.
    per = {c: med(cases, c, lambda r: cpu(r, "agent_us_per_conn"))
           for c, _ in STORM_CASES}
    core = {c: 1e6 / v if v else None for c, v in per.items()}
    summary["per_core"] = core
    kc, ngx = core.get("storm-kc"), core.get("storm-nginx")
    out.append("Per core (1 s / server CPU per handshake): "
               + ", ".join(f"{name} {fmt(core.get(c))}/s"
                           for c, name in STORM_CASES)
               + f"; kcourierd / nginx {fmt(kc / ngx if kc and ngx else None, 'x', 2)}")


def idle_kib(row, n):
    """The server's VmRSS with n connections open, KiB (None unknown)."""
    for st in row["result"]["idle"]["steps"]:
        if st["connections"] == n and st["server_kib"] >= 0:
            return st["server_kib"]
    return None


def idle(cases, out, summary):
    """Memory per idle connection: the steps of the first run of each."""
    out.append("| server | connections open | RSS at 0 | at 1 | at 1,000 "
               "| at 10,000 | per connection (1 to 10,000) | failed |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for case, name in IDLE_CASES:
        if case not in cases:
            continue
        row = cases[case][min(cases[case])]
        i = row["result"]["idle"]
        at = {n: idle_kib(row, n) for n in (0, 1, 1000, 10000)}
        per = None
        if at[1] is not None and at[10000] is not None:
            per = (at[10000] - at[1]) * 1024 / 9999
        summary[case] = {"kib": at, "bytes_per_connection": per,
                         "failed": i["failed"]}
        out.append("| " + " | ".join((
            name, fmt(i["opened"]),
            *(fmt(at[n], " KiB") for n in (0, 1, 1000, 10000)),
            fmt(per, " B"), fmt(i["failed"]))) + " |")
    kc, mq = (summary.get(c, {}).get("bytes_per_connection")
              for c, _ in IDLE_CASES)
    if kc and mq:
        out += ["", "kcourierd / mosquitto memory per idle connection: "
                f"{fmt(kc / mq, 'x', 2)} (target: below 1)"]
    if "kc-512-idle" in cases and "kc-512-alone" in cases:
        rate = res("msgs_per_s")
        with_idle, alone = (med(cases, c, rate)
                            for c in ("kc-512-idle", "kc-512-alone"))
        summary["kc512_with_idle"] = {"with": with_idle, "alone": alone}
        out += ["", f"kc-512 beside the idle connections: "
                f"{fmt(with_idle)} msgs/s, alone {fmt(alone)} msgs/s "
                f"({fmt(with_idle / alone if alone else None, 'x', 2)};"
                " target: within 10 %)"]


def flagged_runs(by_mode):
    """Every run whose load generator was above LOAD_LIMIT of its core."""
    flags = []
    for mode, cases in by_mode.items():
        for case, runs in cases.items():
            for run, row in sorted(runs.items()):
                s = load_share(row)
                if s is not None and s > LOAD_LIMIT:
                    flags.append({"mode": mode, "case": case, "run": run,
                                  "load_core": s})
    return flags


def projected_limits(by_mode):
    """Cases whose load generator could not keep its server at 100 %."""
    over = []
    for mode, cases in by_mode.items():
        for case in cases:
            p = med(cases, case, at_server_max)
            if p is not None and p > LOAD_LIMIT:
                over.append({"mode": mode, "case": case,
                             "load_core_at_server_max": p})
    return over


def probes(cases, out, summary):
    """kcourier-lat attached against not, same shape, same repetition."""
    thr = res("msgs_per_s")
    per = lambda r: cpu(r, "agent_us_per_msg")
    rt = ratio_median(cases, "kc-512-traced", "kc-512-ref", thr)
    rc = ratio_median(cases, "kc-512-traced", "kc-512-ref", per)
    summary.update(throughput_ratio=rt, cpu_per_msg_ratio=rc)
    out.append("| kc-512 | msgs/s | server us/msg | ack p99 |")
    out.append("|---|---|---|---|")
    for case in ("kc-512-ref", "kc-512-traced"):
        out.append(f"| {case} | {fmt(med(cases, case, thr))} | "
                   f"{fmt(med(cases, case, per), '', 1)} | "
                   f"{fmt(med(cases, case, lambda r: lat(r, 'ack', 'p99')), 'us')} |")
    out += ["", f"Traced over not traced, median of the runs' ratios: "
            f"throughput {fmt(rt, 'x', 3)}, agent CPU per message "
            f"{fmt(rc, 'x', 3)}"]


def mode_section(mode, cases, floor, out, summary):
    out += [f"### {MODE_TITLES.get(mode, mode)}", ""]
    if any(c in cases for c in MATRIX_CASES if c != "kc-512"):
        out += ["#### Matrix", ""]
        matrix(cases, out)
        out.append("")
    if "kc-512" in cases:
        out += ["#### Side by side: 32 pairs, 512 B, window 16, "
                "mutual TLS 1.3", ""]
        peers(cases, out, summary.setdefault("peers", {}))
    if "half-512" in cases:
        half = med(cases, "half-512", lambda r: lat(r, "ack", "p99"))
        summary["half_rate_ack_p99_us"] = half
        out += ["", f"Ack p99 at half of kcourier's maximum rate: "
                f"{fmt(half, 'us')} (target: below 1 ms)"]
    if "tput-256" in cases:
        out += ["", "#### Agent CPU against the crypto floor", ""]
        floor_table(cases, floor, out, summary.setdefault("floor", {}))
    if "storm-kc" in cases:
        out += ["", "#### New mutual-TLS connections", ""]
        storm(cases, out, summary.setdefault("storm", {}))
    if "kc-512-traced" in cases:
        out += ["", "#### The probes' cost: kcourier-lat attached", ""]
        probes(cases, out, summary.setdefault("probes", {}))
    if "idle-kc" in cases:
        out += ["", "#### Idle authenticated connections: server memory", ""]
        idle(cases, out, summary.setdefault("idle", {}))
    out.append("")


def flags_section(flags, over, out):
    out += ["### Load generators near their core's limit", ""]
    if not flags:
        out.append(f"No run had a load generator above {LIMIT_TEXT} of "
                   "its core: every figure above measures the server.")
    else:
        out.append(f"In these runs the load generator used more than "
                   f"{LIMIT_TEXT} of its core, so the figure may measure "
                   "the load generator rather than the server (marked (!) "
                   "above):")
        out.append("")
        for f in flags:
            out.append(f"- {f['mode']} {f['case']} run {f['run']}: "
                       f"{fmt(f['load_core'], '%')}")
    out.append("")
    if not over:
        out.append("At every server's 100 %, its load generator would need "
                   f"at most {LIMIT_TEXT} of its own core (load CPU per "
                   "message over server CPU per message).")
        return
    out.append("Here the load generator costs more per message (or "
               "handshake) than the server: it could not bring the server "
               f"to 100 % without more than {LIMIT_TEXT} of its own core, "
               "so at the maximum these cases measure the load generator:")
    out.append("")
    for o in over:
        out.append(f"- {o['mode']} {o['case']}: "
                   f"{fmt(o['load_core_at_server_max'], '%')}")


def main():
    results, floor_path, md_path, json_path, command = sys.argv[1:6]
    by_mode = load(results)
    with open(floor_path) as f:
        floor = json.load(f)
    runs = max((len(runs) for cases in by_mode.values()
                for runs in cases.values()), default=0)
    flags, over = flagged_runs(by_mode), projected_limits(by_mode)
    summary = {"command": command, "runs": runs, "load_limit": LOAD_LIMIT,
               "modes": {}, "load_flags": flags, "load_limits_at_max": over}
    out = [f"Command: `{command}` ({runs} runs; medians)", ""]
    for mode in sorted(by_mode, key=lambda m: (m not in MODES, m)):
        mode_section(mode, by_mode[mode], floor, out,
                     summary["modes"].setdefault(mode, {}))
    flags_section(flags, over, out)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)
    with open(json_path, "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
