"""benches/plot.py: req/s against the stored session's size, this crate against the raw
handler, from the CSV rows of benches/http/sizes.sh (Redis) and benches/http/sql.sh
(`SESSION_BYTES` runs), to docs/bench-sizes.png.

    python3 benches/plot.py sizes.csv [sql.csv ...] [-o docs/bench-sizes.png]

Columns read: backend, server, route, session_bytes, rps (the others, and any extra
column, are ignored; a file without a header line is read with the column order
backend,server,route,session_bytes,round,rps,...). Each point is the median over the
rounds of one backend, server, route and size. The top row is req/s (both axes
logarithmic), one line per backend and server (the crate solid, raw dashed, one colour per
backend); the bottom row is the crate's req/s over raw's at each size.

matplotlib comes from PyPI into a virtual environment the script creates on first use
(benches/.venv, git-ignored; AFS_PLOT_VENV=<dir> to put it elsewhere).
"""
import argparse
import csv
import os
import pathlib
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
COLUMNS = ["backend", "server", "route", "session_bytes", "round", "rps"]


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    venv = pathlib.Path(os.environ.get("AFS_PLOT_VENV", HERE / ".venv"))
    python = venv / "bin" / "python3"
    if os.environ.get("AFS_PLOT_IN_VENV"):
        sys.exit(f"matplotlib is still missing in {venv}")
    if not python.exists():
        print(f"creating {venv} with matplotlib (first use)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "matplotlib"], check=True)
    os.environ["AFS_PLOT_IN_VENV"] = "1"
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def read_rows(paths):
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            lines = [l for l in f if l.strip()]
        if not lines:
            continue
        if lines[0].lower().startswith("backend,"):
            reader = csv.DictReader(lines)
        else:
            reader = csv.DictReader(lines, fieldnames=COLUMNS, restkey="_extra")
        for row in reader:
            # A header line repeated further down (files appended to) is skipped.
            if row.get("backend") == "backend":
                continue
            try:
                rows.append((row["backend"], row["server"], row["route"].lstrip("/"),
                             int(float(row["session_bytes"])), float(row["rps"])))
            except (KeyError, TypeError, ValueError) as e:
                print(f"{path}: skipped a row ({e!r}): {row}", file=sys.stderr)
    return rows


def human(n):
    n = int(round(n))
    if n >= 10**6:
        return "1 MiB" if n == 1048576 else f"{n / 1e6:g} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} B"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="+")
    ap.add_argument("-o", "--output", default=str(HERE.parent / "docs" / "bench-sizes.png"))
    ap.add_argument("--title", default="")
    args = ap.parse_args()
    ensure_matplotlib()
    rows = read_rows(args.csv)
    if not rows:
        sys.exit("no rows")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    series = {}
    for backend, server, route, size, rps in rows:
        series.setdefault((route, backend, server), {}).setdefault(size, []).append(rps)
    med = {k: {s: statistics.median(v) for s, v in sorted(d.items())} for k, d in series.items()}
    routes = [r for r in ("read", "incr") if any(k[0] == r for k in med)]
    routes += sorted({k[0] for k in med} - set(routes))
    backends = sorted({k[1] for k in med})
    colours = dict(zip(backends, ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown"]))
    sizes = sorted({s for d in med.values() for s in d})
    rounds = max(len(v) for d in series.values() for v in d.values())

    fig, axes = plt.subplots(2, len(routes), figsize=(6 * len(routes), 8), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1]}, sharex=True)
    for col, route in enumerate(routes):
        top, bottom = axes[0][col], axes[1][col]
        for backend in backends:
            for server in sorted({k[2] for k in med if k[:2] == (route, backend)}):
                d = med[(route, backend, server)]
                crate = server not in ("raw",) and not server.startswith("raw")
                label = f"{backend}, {'this crate' if crate else server}"
                top.plot(list(d), list(d.values()), marker="o", color=colours[backend],
                         linestyle="-" if crate else "--", label=label)
            d_afs = next((med[k] for k in med if k[:2] == (route, backend) and not k[2].startswith("raw")), None)
            d_raw = med.get((route, backend, "raw")) or next(
                (med[k] for k in med if k[:2] == (route, backend) and k[2].startswith("raw")), None)
            if d_afs and d_raw:
                common = [s for s in d_afs if s in d_raw]
                bottom.plot(common, [d_afs[s] / d_raw[s] for s in common], marker="o",
                            color=colours[backend], label=backend)
        top.set_title(f"/{route}")
        top.set_yscale("log")
        top.set_ylabel("req/s")
        top.grid(True, which="both", alpha=0.3)
        top.legend(fontsize=8)
        bottom.axhline(0.9, color="grey", linestyle=":", linewidth=1)
        bottom.text(sizes[0], 0.905, "0.9", color="grey", fontsize=8, va="bottom")
        bottom.set_ylabel("this crate / raw")
        bottom.set_ylim(0, max(1.2, bottom.get_ylim()[1]))
        bottom.grid(True, alpha=0.3)
        bottom.legend(fontsize=8)
        bottom.set_xscale("log")
        bottom.xaxis.set_major_locator(FixedLocator(sizes))
        bottom.xaxis.set_minor_locator(NullLocator())
        bottom.xaxis.set_major_formatter(FuncFormatter(lambda x, _: human(x)))
        bottom.set_xlabel("stored session size")
    fig.suptitle(args.title or f"req/s against the stored session's size (median of {rounds} round{'s' if rounds != 1 else ''})")
    fig.tight_layout()
    out = pathlib.Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
