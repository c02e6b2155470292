#!/usr/bin/env python3
"""Prints the table of scripts/bench.sh: wssgate next to the anchors, as ratios.

Usage: bench-summary.py OUTDIR

Reads OUTDIR/<server>-<figure>.txt (wsload RESULT lines, one per run) and
OUTDIR/wssgate-<figure>-bench.txt (wssgate-bench). A ratio is wssgate's value
over the anchor's, run i against run i (min / median / max over the runs).
"""
import pathlib
import statistics
import sys

# figure -> [(metric, label, target kind, target value)]
# kinds: "floor<=" ratio to the floor at most value; "node>=" ratio to Node at
# least value; "floor+us" wssgate at most floor + value µs (median of the
# per-run differences); "zero": must be 0.
FIGURES = {
    "idle": [("server_kib_per_conn", "idle: server KiB per connection", "floor<=", 1.0)],
    "handshake": [
        ("server_cpu_us_per_handshake", "handshake: server CPU µs per handshake", "floor<=", 1.1),
        ("handshakes_per_s", "handshake: handshakes/s", None, None),
        ("server_kinstr_per_handshake", "handshake: server instructions per handshake, thousands (PERF=1)", None, None),
    ],
    "fanout1k": [
        ("server_cpu_us_per_delivery", "fan-out 1→1k w16: server CPU µs per delivery", "floor<=", 1.0),
        ("deliveries_per_s", "fan-out 1→1k w16: deliveries/s", "node>=", 2.0),
        ("missing", "fan-out 1→1k w16: missing", "zero", 0),
    ],
    "fanout10k": [
        ("server_cpu_us_per_delivery", "fan-out 1→10k w16: server CPU µs per delivery", "floor<=", 1.0),
        ("deliveries_per_s", "fan-out 1→10k w16: deliveries/s", "node>=", 2.0),
        ("missing", "fan-out 1→10k w16: missing", "zero", 0),
    ],
    "latency1k": [
        ("p99_us", "fan-out 1→1k w1: p99 latency µs", "floor+us", 1000),
        ("server_cpu_us_per_delivery", "fan-out 1→1k w1: server CPU µs per delivery", None, None),
        ("missing", "fan-out 1→1k w1: missing", "zero", 0),
    ],
}


def runs(outdir, name):
    p = outdir / f"{name}.txt"
    if not p.exists():
        return []
    out = []
    for line in p.read_text().splitlines():
        if line.startswith("RESULT "):
            r = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            if "server_instructions" in r and float(r.get("handshakes", 0)) > 0:  # PERF=1
                r["server_kinstr_per_handshake"] = float(r["server_instructions"]) / float(r["handshakes"]) / 1000
            out.append(r)
    return out


def values(rs, key):
    vals = []
    for r in rs:
        try:
            vals.append(float(r[key]))
        except (KeyError, ValueError):
            pass
    return vals


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def med(vals):
    return statistics.median(vals) if vals else None


def spread(vals):
    if not vals:
        return "–"
    s = fmt(med(vals))
    if len(vals) > 1:
        s += f" ({fmt(min(vals))}–{fmt(max(vals))})"
    return s


def ratios(a, b):
    rs = [x / y for x, y in zip(a, b) if y]
    if not rs:
        return None, "–"
    return statistics.median(rs), f"{min(rs):.2f} / {statistics.median(rs):.2f} / {max(rs):.2f}"


def main(outdir):
    outdir = pathlib.Path(outdir)
    print("| figure | gobwas floor | Node ws | wssgate (wsload) | wssgate (wssgate-bench) "
          "| wssgate/floor min/med/max | wssgate/Node min/med/max | target | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    for fig, metrics in FIGURES.items():
        g, n, w, wb = (runs(outdir, f"gobwas-{fig}"), runs(outdir, f"node-{fig}"),
                       runs(outdir, f"wssgate-{fig}"), runs(outdir, f"wssgate-{fig}-bench"))
        if not (g or n or w or wb):
            continue
        for key, label, kind, target in metrics:
            gv, nv, wv, bv = values(g, key), values(n, key), values(w, key), values(wb, key)
            rf, rfs = ratios(wv, gv)
            rn, rns = ratios(wv, nv)
            met, tgt = "", ""
            if kind == "floor<=":
                tgt = f"≤ {target:g}× floor"
                met = "–" if rf is None else ("yes" if rf <= target else f"no ({rf / target:.2f}× the target)")
            elif kind == "node>=":
                tgt = f"≥ {target:g}× Node"
                met = "–" if rn is None else ("yes" if rn >= target else f"no ({rn / target:.2f}× the target)")
            elif kind == "floor+us":
                # Paired like the ratios: run i of wssgate minus run i of the floor.
                tgt = f"≤ floor + {target / 1000:g} ms"
                ds = [x - y for x, y in zip(wv, gv)]
                if ds:
                    d = statistics.median(ds)
                    rfs += " (wssgate − floor: " + " / ".join(f"{x / 1000:+.1f}" for x in (min(ds), d, max(ds))) + " ms)"
                    met = "yes" if d <= target else f"no (+{d / 1000:.1f} ms)"
            elif kind == "zero":
                tgt = "0"
                allv = wv + bv
                met = "–" if not allv else ("yes" if max(allv) == 0 else "no")
            print(f"| {label} | {spread(gv)} | {spread(nv)} | {spread(wv)} | {spread(bv)} | {rfs} | {rns} | {tgt} | {met} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
