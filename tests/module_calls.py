#!/usr/bin/env python3
"""module_calls.py ARCHIVE... -- fails when source files call each other in a circle.

Each object file in the static libraries given is one module (its source
file). Module A depends on module B when A uses (nm: U) a global symbol that
B defines. A strongly connected component of two or more modules is a circle
of calls (A -> B -> ... -> A): it is printed with the symbols behind each
edge, and the exit status is 1. Exit 0 when the graph has no circle, 2 when
nm fails or no module was read.
"""
import collections
import subprocess
import sys


def read(archives):
    defs, uses = {}, collections.defaultdict(set)
    for a in archives:
        p = subprocess.run(["nm", "-A", "-g", a], capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write("module_calls: nm %s failed: %s\n" % (a, p.stderr.strip()))
            sys.exit(2)
        for line in p.stdout.splitlines():
            head, _, rest = line.rpartition(":")
            mod = head.split(":")[-1].replace(".c.o", ".c")
            f = rest.split()
            if len(f) == 2 and f[0] == "U":
                uses[mod].add(f[1])
            elif len(f) == 3 and f[1] in "TDRBCVG":
                defs[f[2]] = mod
            uses.setdefault(mod, set())
    return defs, uses


def circles(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    defs, uses = read(sys.argv[1:])
    if not uses:
        sys.stderr.write("module_calls: no object files read\n")
        return 2
    graph = {m: {defs[s] for s in us if s in defs and defs[s] != m} for m, us in uses.items()}
    found = circles(graph)
    for comp in found:
        print("circle of calls between: " + " ".join(comp))
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                syms = sorted(s for s in uses[a] if defs.get(s) == b)
                print("  %s -> %s: %s" % (a, b, ", ".join(syms)))
    print("module_calls: %d modules, %d circles" % (len(graph), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
