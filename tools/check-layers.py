#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Holds the tree to its layers, from its #include lines alone.

Usage: tools/check-layers.py [ROOT]        (exit 1 and one line per fault)

The layers are written down in LAYERS below and explained in
docs/DESIGN.md "Layers". Three faults are reported:

  upward   a file includes a header of a layer it may not use: a layer
           lists the layers below it that it may include, and its own
           folder is always allowed;
  foreign  tools/ (and lib/) include nothing from agent/: the agent's
           internals are its own;
  cycle    modules that include each other in a loop, directly or
           around several; a module is a .c with its .h, so "conn.c
           includes worker.h and worker.c includes conn.h" is a cycle
           even though no header includes itself.

Tests, fuzz targets and benchmarks may include anything; they are not
checked for upward includes, only for cycles among themselves.
"""
import fnmatch
import os
import re
import subprocess
import sys

# Layer: (paths it covers besides its own folder, as glob patterns; the
# layers it may include). A path in no pattern belongs to the layer of
# its longest folder prefix.
LAYERS = {
    "lib/base": ([], []),
    "lib/wire": ([], ["lib/base"]),
    "lib/crypto": ([], ["lib/base", "lib/wire"]),
    "lib/tls": ([], ["lib/base", "lib/wire", "lib/crypto"]),
    "lib/agentconf": ([], ["lib/base"]),
    "lib/client": ([], ["lib/base", "lib/wire", "lib/crypto", "lib/tls"]),
}
# The kernel module's ABI header (uapi/linux/) includes nothing of ours
# and anything may include it; the module (kmod/) and the BPF programs
# (bpf/) may include nothing else of the tree.
LAYERS.update({
    "uapi": ([], []),
})
for name in ("lib/base", "lib/wire", "lib/crypto", "lib/tls",
             "lib/agentconf", "lib/client"):
    LAYERS[name][1].append("uapi")
LAYERS.update({
    "kmod": ([], ["uapi"]),
    "bpf": ([], ["uapi"]),
})
LIB = [name for name in LAYERS if name.startswith("lib/")] + ["uapi"]
# The agent (docs/DESIGN.md "Layers"): ring < conn < loop < proto, each
# calling only downward; the store beside them, for proto and the top;
# the top of agent/ (commands, state, PKI, daemon.h) uses everything.
LAYERS.update({
    "agent/ring": ([], LIB),
    "agent/conn": ([], LIB + ["agent/ring"]),
    "agent/loop": ([], LIB + ["agent/ring", "agent/conn"]),
    "agent/store": (["agent/store*"], LIB),
    "agent/proto": ([], LIB + ["agent/ring", "agent/conn", "agent/loop",
                               "agent/store"]),
    "agent/metrics": ([], LIB + ["agent/ring", "agent/conn", "agent/loop",
                                 "agent/proto", "agent/store"]),
    "agent": ([], LIB + ["agent/ring", "agent/conn", "agent/loop",
                         "agent/proto", "agent/store", "agent/metrics"]),
})
# Everything else above lib may use all of lib; tools/ may refine this
# with its own entries, longest prefix first.
OPEN_TOPS = ("tests/", "bench/")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "*.c", "*.h"],
                         check=True, capture_output=True, text=True).stdout
    return [p for p in out.split() if os.path.exists(os.path.join(root, p))]


def resolve(root, src, name, known):
    """The repository path an include names, or None (system or unknown)."""
    here = os.path.normpath(os.path.join(os.path.dirname(src), name))
    if here in known:
        return here
    for base in ("lib", "agent", "uapi", "tests", "tools/loadkit"):
        cand = os.path.normpath(os.path.join(base, name))
        if cand in known:
            return cand
    return None


def layer_of(path):
    for name, (covers, _) in LAYERS.items():
        if any(fnmatch.fnmatchcase(path, pat) for pat in covers):
            return name
    best = None
    for name in LAYERS:
        if path.startswith(name + "/") and (best is None or len(name) > len(best)):
            best = name
    return best


def module_of(path):
    """A .c with its .h; a private header (x_int.h, x_priv.h) is x's."""
    return re.sub(r"_(int|priv)$", "", os.path.splitext(path)[0])


def find_cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    files = sources(root)
    known = set(files)
    faults = []
    edges = {}
    for src in files:
        text = open(os.path.join(root, src), encoding="utf-8").read()
        mine = layer_of(src)
        for name in INCLUDE.findall(text):
            dst = resolve(root, src, name, known)
            if dst is None:
                continue
            a, b = module_of(src), module_of(dst)
            if a != b:
                edges.setdefault(a, set()).add(b)
            theirs = layer_of(dst)
            if src.startswith(("tools/", "lib/")) and dst.startswith("agent/"):
                faults.append(f"foreign: {src} includes {dst}")
            if src.startswith(OPEN_TOPS) or mine is None or theirs is None:
                continue
            if theirs != mine and theirs not in LAYERS[mine][1]:
                faults.append(f"upward: {src} ({mine}) includes {dst} ({theirs})")
    for comp in find_cycles(edges):
        faults.append("cycle: " + " -> ".join(comp))
    for f in faults:
        print(f)
    print(f"check-layers: {len(files)} files, {len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
