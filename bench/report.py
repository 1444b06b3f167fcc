"""results.json -> the markdown tables quoted in bench/RESULTS.md."""
from __future__ import annotations

from typing import Any


def _best_at(steps: list[dict], p99_ms: float) -> dict | None:
    ok = [s for s in steps if s.get("p99_ms", 1e9) <= p99_ms and not s.get("lost_total")]
    return max(ok, key=lambda s: s["deliveries_per_s"]) if ok else None


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def render(results: dict) -> str:
    systems: dict[str, dict] = results["systems"]
    m = results["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Linux {m['kernel']}, "
             f"Python {m['python']}, {m['redis']}.", f"Command: `{results['command']}` "
             f"(started {results['started']}{', quick sizes' if results.get('quick') else ''}).", ""]

    lines += ["### W1 idle connections (RSS of both server processes)", "",
              _row(["system", "connections", "connected", "RSS MB", "KB / connection", "connect s"]),
              _row(["---"] * 6)]
    for name, r in systems.items():
        for s in r.get("W1", {}).get("steps", []):
            lines.append(_row([name, s["connections"], s["connected"], round(s["rss_kb"] / 1024, 1),
                               s["kb_per_connection"], s["connect_seconds"]]))
        if "error" in r.get("W1", {}):
            lines.append(_row([name, "error", r["W1"]["error"], "", "", ""]))
    for key, title in (("W2", "W2 100 rooms x 50 subscribers"), ("W3", "W3 one room of 5,000")):
        lines += ["", f"### {title}: publish rate stepped up", "",
                  _row(["system", "posts/s", "offered deliv/s", "delivered/s", "p50 ms", "p99 ms",
                        "lost", "dup", "out of order", "busy %"]), _row(["---"] * 10)]
        for name, r in systems.items():
            w = r.get(key, {})
            if "error" in w:
                lines.append(_row([name, "error", w["error"][:120]] + [""] * 7))
            for s in w.get("steps", []):
                lines.append(_row([name, s["posts_per_s"], s["offered_deliveries_per_s"],
                                   s["deliveries_per_s"], s["p50_ms"], s["p99_ms"], s["lost_total"],
                                   s["duplicates_total"], s["out_of_order_total"],
                                   s["cpu_s"].get("machine_busy_pct", "")]))
        best = {n: _best_at(r.get(key, {}).get("steps", []), 100.0) for n, r in systems.items()}
        lines += ["", f"Best deliveries/s at p99 <= 100 ms ({key}): " + ", ".join(
            f"{n} {b['deliveries_per_s'] if b else 'none'}" for n, b in best.items())]
        if best.get("workroom"):
            peers = [b["deliveries_per_s"] for n, b in best.items() if n != "workroom" and b]
            if peers:
                lines.append(f"Workroom / best peer: {best['workroom']['deliveries_per_s'] / max(peers):.2f}x")

    lines += ["", "### W4 1% slow readers", "",
              _row(["system", "posts/s", "delivered/s (normal)", "p50 ms", "p99 ms", "lost (normal)",
                    "slow closes", "RSS before MB", "RSS peak MB"]), _row(["---"] * 9)]
    for name, r in systems.items():
        w = r.get("W4", {})
        if "error" in w:
            lines.append(_row([name, "error", w["error"][:120]] + [""] * 6))
        elif w:
            lines.append(_row([name, w["posts_per_s"], w["deliveries_per_s"], w["p50_ms"], w["p99_ms"],
                               w["lost_normal"], w["slow_close_codes"], round(w["rss_before_kb"] / 1024, 1),
                               round(w["rss_peak_kb"] / 1024, 1)]))
    lines += ["", "### W5 faults under load", "",
              _row(["system", "fault", "sent", "lost", "dup", "out of order", "reconnects",
                    "s until all receive again", "s until all resubscribed"]), _row(["---"] * 9)]
    for name, r in systems.items():
        w = r.get("W5", {})
        if "error" in w:
            lines.append(_row([name, "error", w["error"][:120]] + [""] * 6))
        for fault in ("redis_restart", "server_kill"):
            f = w.get(fault)
            if f:
                lines.append(_row([name, fault, f.get("sent"), f.get("lost"), f.get("duplicates"),
                                   f.get("out_of_order"), f.get("reconnects"),
                                   f.get("seconds_until_all_receive_again"),
                                   f.get("seconds_until_all_resubscribed", "")]))
    return "\n".join(lines) + "\n"
