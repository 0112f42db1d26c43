#!/usr/bin/env python3
"""Checks that the workspace's `rust-version` is truthful: at least the highest
`rust-version` any crate in the normal dependency tree declares.

Prints the derived minimum and exits non-zero when the workspace claims less.
"""
import json
import subprocess
import sys


def version_tuple(v):
    parts = [int(p) for p in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.loads(
    subprocess.check_output(["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", "x86_64-unknown-linux-gnu"])
)
packages = {p["id"]: p for p in meta["packages"]}
workspace = set(meta["workspace_members"])

# Walk only normal (non-dev) dependencies from the workspace members: dev-dependencies
# do not constrain the users' compiler.
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
seen, stack = set(), list(workspace)
while stack:
    pid = stack.pop()
    if pid in seen:
        continue
    seen.add(pid)
    for dep in nodes[pid]["deps"]:
        if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
            stack.append(dep["pkg"])

needed, who = (0, 0, 0), "nothing"
for pid in seen - workspace:
    rv = packages[pid].get("rust_version")
    if rv and version_tuple(rv) > needed:
        needed, who = version_tuple(rv), f'{packages[pid]["name"]} {packages[pid]["version"]}'

claimed = {
    version_tuple(packages[pid]["rust_version"])
    for pid in workspace
    if packages[pid].get("rust_version")
}
need_s = ".".join(map(str, needed))
print(f"dependency tree needs Rust >= {need_s} ({who})")
bad = [c for c in claimed if c < needed]
if bad or not claimed:
    print(f"error: workspace rust-version is {sorted(claimed)}, below {need_s}", file=sys.stderr)
    sys.exit(1)
