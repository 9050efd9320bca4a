#!/usr/bin/env python3
"""Distance of dormant and cycling tumour cells to the nearest endosteal
surface over a bonesim run, and the O2 field at the last snapshot.

usage: dormant_distance.py RUN [--out FIG.png] [--csv TABLE.csv]

RUN is a run's output folder (with spatial.h5, written by
`bonesim run ... --spatial-every DAYS`) or the .h5 file itself. Draws
FIG.png (default RUN/dormant_distance.png) and, with --csv, writes the
per-snapshot numbers. Needs python3-h5py, python3-numpy and
python3-matplotlib (Debian). See docs/analysis.md.
"""
import argparse
import os
import sys

import h5py
import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def codes(label):
    """'0 marrow, 1 bone, ...' -> {'marrow': 0, 'bone': 1, ...}"""
    out = {}
    for part in label.split(","):
        num, _, name = part.strip().partition(" ")
        out[name.split(" ")[0]] = int(num)
    return out


def state_codes(label, cell_type):
    """'osteoclast: 0 active; dtc: 0 migrating 1 dormant ...' -> codes of one type"""
    for part in label.split(";"):
        name, _, rest = part.strip().partition(":")
        if name == cell_type:
            words = rest.split()
            return {words[i + 1]: int(words[i]) for i in range(0, len(words) - 1, 2)}
    raise KeyError("no states for cell type %r in %r" % (cell_type, label))


def distance_map(feature):
    """Exact Euclidean distance (in sites) from every site to the nearest
    True site of `feature` (2D bool): a column pass, then for each row the
    minimum over all columns of dx^2 + (column distance)^2."""
    h, w = feature.shape
    big = float(h + w) ** 2
    col = np.full((h, w), np.inf)
    run = np.full(w, np.inf)
    for y in range(h):  # downward
        run = np.where(feature[y], 0.0, run + 1.0)
        col[y] = run
    run = np.full(w, np.inf)
    for y in range(h - 1, -1, -1):  # upward
        run = np.where(feature[y], 0.0, run + 1.0)
        col[y] = np.minimum(col[y], run)
    g2 = np.where(np.isinf(col), big, col**2)
    dx2 = (np.arange(w)[:, None] - np.arange(w)[None, :]) ** 2.0
    out = np.empty((h, w))
    for y in range(h):
        out[y] = np.min(dx2 + g2[y][None, :], axis=1)
    return np.sqrt(out)


def read_run(path):
    if os.path.isdir(path):
        path = os.path.join(path, "spatial.h5")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        sys.exit("%s: cannot open (%s); a run killed while writing leaves the file marked open: "
                 "h5clear -s %s (hdf5-tools) makes it readable, or resume the run" % (path, e, path))
    with f:
        if text(f.attrs.get("format", "")) != "bonesim-spatial":
            sys.exit("%s: not a bonesim spatial file" % path)
        site_um = float(f.attrs["site_um"])
        snaps = []
        for k in sorted(f["snapshots"].keys()):
            try:  # only complete snapshots; a partial one may not even open
                g = f["snapshots"][k]
                if g.attrs.get("complete", 0) == 1:
                    snaps.append(g)
            except (KeyError, OSError):
                pass
        if not snaps:
            sys.exit("%s: no complete snapshot" % path)
        cells0 = snaps[0]["cells"]
        types = codes(text(cells0["type"].attrs["description"]))
        dtc_states = state_codes(text(cells0["state"].attrs["description"]), "dtc")
        tissue_codes = codes(text(snaps[0]["tissue"].attrs["description"]))
        surface_codes = codes(text(snaps[0]["surface"].attrs["description"]))
        manifest = text(f["manifest"][()])
        rows = []
        for g in snaps:
            surface = g["surface"][()]
            endosteal = surface != surface_codes["none"]
            dist_um = distance_map(endosteal) * site_um if endosteal.any() else None
            c = g["cells"]
            t, s = c["type"][()], c["state"][()]
            col = np.floor(c["x_um"][()] / site_um).astype(int)
            row = np.floor(c["y_um"][()] / site_um).astype(int)
            d = dist_um[row, col] if dist_um is not None else np.full(len(t), np.nan)
            tumour = t == types["dtc"]
            rows.append({
                "time_days": float(g.attrs["time_days"]),
                "dormant": d[tumour & (s == dtc_states["dormant"])],
                "cycling": d[tumour & (s == dtc_states["proliferating"])],
            })
        last = snaps[-1]
        c = last["cells"]
        t, s = c["type"][()], c["state"][()]
        tumour = t == types["dtc"]
        final = {
            "time_days": float(last.attrs["time_days"]),
            "o2": last["fields"]["o2"][()],
            "o2_units": text(last["fields"]["o2"].attrs["units"]),
            "bone": last["tissue"][()] == tissue_codes["bone"],
            "x": c["x_um"][()], "y": c["y_um"][()],
            "dormant": tumour & (s == dtc_states["dormant"]),
            "cycling": tumour & (s == dtc_states["proliferating"]),
            "w_um": last["tissue"].shape[1] * site_um, "h_um": last["tissue"].shape[0] * site_um,
        }
    scenario = ""
    for line in manifest.splitlines():
        if '"scenario"' in line:
            scenario = line.split(":", 1)[1].strip().strip('",')
    return path, rows, final, scenario


def quartiles(values):
    if len(values) == 0:
        return (np.nan, np.nan, np.nan)
    return tuple(np.percentile(values, [25, 50, 75]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="run folder or its spatial.h5")
    ap.add_argument("--out", help="figure (PNG); default RUN/dormant_distance.png")
    ap.add_argument("--csv", help="also write the per-snapshot numbers here")
    a = ap.parse_args()
    path, rows, final, scenario = read_run(a.run)
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(path)), "dormant_distance.png")

    t = np.array([r["time_days"] for r in rows])
    stats = {k: np.array([quartiles(r[k]) for r in rows]) for k in ("dormant", "cycling")}
    counts = {k: np.array([len(r[k]) for r in rows]) for k in ("dormant", "cycling")}

    fig, (ax, mp) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.25, 1]})
    colours = {"dormant": "#0072B2", "cycling": "#D55E00"}  # Okabe-Ito blue, vermillion
    names = {"dormant": "dormant", "cycling": "cycling (proliferating)"}
    for k in ("dormant", "cycling"):
        q = stats[k]
        ax.plot(t, q[:, 1], color=colours[k], lw=2, label="%s, median (n at end: %d)" % (names[k], counts[k][-1]))
        ax.fill_between(t, q[:, 0], q[:, 2], color=colours[k], alpha=0.2, lw=0)
    ax.set_xlabel("time (days)")
    ax.set_ylabel("distance to nearest endosteal surface (µm)")
    ax.set_title("Tumour cells vs bone surface (band: 25-75%)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)

    extent = (0, final["w_um"], final["h_um"], 0)
    im = mp.imshow(final["o2"], cmap="viridis", extent=extent, interpolation="nearest")
    bone = np.ma.masked_where(~final["bone"], np.ones_like(final["o2"]))
    mp.imshow(bone, cmap="Greys", vmin=0, vmax=1.4, extent=extent, interpolation="nearest", alpha=0.85)
    for k, mk in (("dormant", "o"), ("cycling", ".")):
        sel = final[k]
        mp.scatter(final["x"][sel], final["y"][sel], s=16 if k == "dormant" else 10, marker=mk,
                   facecolors="none" if k == "dormant" else colours[k],
                   edgecolors="white" if k == "dormant" else colours[k], linewidths=0.8, label=names[k])
    # Zoom on the tumour (its cells plus a margin, at least 800 um across)
    # when it covers a small part of the domain.
    x0, x1, y0, y1 = 0.0, final["w_um"], 0.0, final["h_um"]
    tum = final["dormant"] | final["cycling"]
    if tum.any():
        cx = (final["x"][tum].min() + final["x"][tum].max()) / 2
        cy = (final["y"][tum].min() + final["y"][tum].max()) / 2
        half = max(400.0, (final["x"][tum].max() - final["x"][tum].min()) / 2 + 200,
                   (final["y"][tum].max() - final["y"][tum].min()) / 2 + 200)
        if 2 * half < 0.6 * max(x1, y1):
            x0, x1 = max(0.0, cx - half), min(x1, cx + half)
            y0, y1 = max(0.0, cy - half), min(y1, cy + half)
    mp.set_xlim(x0, x1)
    mp.set_ylim(y1, y0)
    mp.set_xlabel("x (µm)")
    mp.set_ylabel("y (µm)")
    mp.set_title("O2 at day %.0f (bone grey)%s" % (final["time_days"], "" if (x0, y0) == (0.0, 0.0) and x1 == final["w_um"] and y1 == final["h_um"] else ", around the tumour"))
    fig.colorbar(im, ax=mp, label="pO2 (%s)" % final["o2_units"], fraction=0.046, pad=0.04)
    mp.legend(loc="lower right", fontsize=8, framealpha=0.7)
    fig.suptitle("bonesim %s: %s" % (scenario, os.path.basename(os.path.dirname(os.path.abspath(path)))))
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote %s (%d snapshots, day %g to %g)" % (out, len(rows), t[0], t[-1]))

    if a.csv:
        with open(a.csv, "w") as f:
            f.write("time_days,n_dormant,dormant_median_um,dormant_q25_um,dormant_q75_um,"
                    "n_cycling,cycling_median_um,cycling_q25_um,cycling_q75_um\n")
            for i in range(len(t)):
                d, c = stats["dormant"][i], stats["cycling"][i]
                f.write("%g,%d,%.2f,%.2f,%.2f,%d,%.2f,%.2f,%.2f\n" % (
                    t[i], counts["dormant"][i], d[1], d[0], d[2], counts["cycling"][i], c[1], c[0], c[2]))
        print("wrote %s" % a.csv)


if __name__ == "__main__":
    main()
