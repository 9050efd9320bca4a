#!/usr/bin/env python3
"""Checks bonesim spatial files (OUT/spatial.h5) for tests/spatial.sh.

  spatial_check.py check FILE [--snapshots N] [--run-complete 0|1]
      the layout of docs/analysis.md: root attributes, every snapshot group
      complete with its cells and arrays, units on every dataset, cells on
      non-bone sites, snapshots_complete = the number of complete groups.
  spatial_check.py same A B
      the snapshot groups of A and B hold the same datasets, values and
      group attributes (what a resumed run must give).
"""
import sys

import h5py
import numpy as np

FIELDS = ["o2", "cxcl12", "rankl", "opg", "tgfb", "ifng", "pthrp", "suppr", "chemokine"]
CELLS = ["id", "x_um", "y_um", "type", "state", "age_h", "origin", "kills", "za_uptake", "aux"]
ARRAYS = ["tissue", "surface", "mineral", "za_load", "cavity"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def is_complete(snaps, name):
    """A group marked complete; a partial one (a failed or killed append)
    may not even open."""
    try:
        return snaps[name].attrs.get("complete", 0) == 1
    except (KeyError, OSError):
        return False


def check(path, want_n=None, want_complete=None):
    with h5py.File(path, "r") as f:
        if f.attrs["format"] != "bonesim-spatial":
            fail("format attribute is %r" % f.attrs["format"])
        w, h = int(f.attrs["width_sites"]), int(f.attrs["height_sites"])
        site = float(f.attrs["site_um"])
        manifest = f["manifest"][()]
        manifest = manifest.decode() if isinstance(manifest, bytes) else manifest
        if '"parameters"' not in manifest:
            fail("manifest dataset does not hold the run's manifest")
        snaps = f["snapshots"]
        names = sorted(snaps.keys())
        done = [n for n in names if is_complete(snaps, n)]
        if int(f.attrs["snapshots_complete"]) != len(done):
            fail("snapshots_complete %d but %d complete groups" % (f.attrs["snapshots_complete"], len(done)))
        if want_n is not None and len(done) != want_n:
            fail("%d complete snapshots, expected %d" % (len(done), want_n))
        if want_complete is not None and int(f.attrs["run_complete"]) != want_complete:
            fail("run_complete is %d, expected %d" % (f.attrs["run_complete"], want_complete))
        last_t = -1.0
        for n in done:
            g = snaps[n]
            t = float(g.attrs["time_days"])
            if t <= last_t:
                fail("%s: time %g not after %g" % (n, t, last_t))
            last_t = t
            for a in FIELDS:
                d = g["fields"][a]
                if d.shape != (h, w) or "units" not in d.attrs:
                    fail("%s/fields/%s: shape %s, attrs %s" % (n, a, d.shape, list(d.attrs)))
                if d.compression != "gzip" or d.chunks is None:
                    fail("%s/fields/%s is not chunked and compressed" % (n, a))
            for a in ARRAYS:
                if g[a].shape != (h, w) or "units" not in g[a].attrs:
                    fail("%s/%s: shape %s" % (n, a, g[a].shape))
            c = g["cells"]
            k = int(c.attrs["count"])
            for a in CELLS:
                if c[a].shape != (k,) or "units" not in c[a].attrs:
                    fail("%s/cells/%s: shape %s, count %d" % (n, a, c[a].shape, k))
            if k:
                col = (c["x_um"][()] / site - 0.5).round().astype(int)
                row = (c["y_um"][()] / site - 0.5).round().astype(int)
                tissue = g["tissue"][()]
                if (tissue[row, col] == 1).any():
                    fail("%s: a cell sits on a bone site" % n)
                if len(np.unique(c["id"][()])) != k:
                    fail("%s: cell ids are not unique" % n)
        print("ok: %s: %d complete snapshots (%s), %d x %d sites, run_complete %d" % (
            path, len(done), ", ".join("%g" % snaps[n].attrs["time_days"] for n in done[:4]) + (", ..." if len(done) > 4 else ""), w, h,
            f.attrs["run_complete"]))


def same(pa, pb):
    with h5py.File(pa, "r") as a, h5py.File(pb, "r") as b:
        ga, gb = a["snapshots"], b["snapshots"]
        if sorted(ga.keys()) != sorted(gb.keys()):
            fail("snapshot groups differ: %s vs %s" % (sorted(ga.keys()), sorted(gb.keys())))
        count = 0

        def walk(x, y, where):
            nonlocal count
            if dict(x.attrs.items()).keys() != dict(y.attrs.items()).keys():
                fail("%s: attribute names differ" % where)
            for k in x.attrs:
                if not np.array_equal(np.asarray(x.attrs[k]), np.asarray(y.attrs[k])):
                    fail("%s: attribute %s differs" % (where, k))
            if isinstance(x, h5py.Dataset):
                if x.dtype != y.dtype or not np.array_equal(x[()], y[()]):
                    fail("%s: values differ" % where)
                count += 1
                return
            if sorted(x.keys()) != sorted(y.keys()):
                fail("%s: members differ" % where)
            for k in x.keys():
                walk(x[k], y[k], where + "/" + k)

        walk(ga, gb, "/snapshots")
        print("ok: %s and %s: %d snapshots, %d datasets equal" % (pa, pb, len(ga.keys()), count))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        n = rc = None
        args = sys.argv[3:]
        while args:
            if args[0] == "--snapshots":
                n = int(args[1])
            elif args[0] == "--run-complete":
                rc = int(args[1])
            else:
                fail("unknown option " + args[0])
            args = args[2:]
        check(sys.argv[2], n, rc)
    elif len(sys.argv) == 4 and sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        sys.exit(2)
