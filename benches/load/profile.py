#!/usr/bin/env python3
"""Instruction profile of the sidecar for one kind of request, steady on a
noisy machine: the app runs natively, the sidecar under valgrind's
callgrind with instrumentation off until warmed up, then N requests are
counted. Prints instructions per request and the top functions.

    cargo build --profile profiling --bin scim-sidecar --example load_app
    python3 benches/load/profile.py lookup --requests 2000
    cases: small, lookup, get, create, deactivate
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

import lua
import run

HEADERS = {"Authorization": f"Bearer {lua.TOKEN}",
           "Content-Type": "application/scim+json"}


def request_for(case, i, users):
    k = i % users + 1
    if case == "small":
        return "GET", "/small", None, {}
    if case == "lookup":
        return ("GET", f"/scim/v2/Users?filter=userName%20eq%20%22user{k}%40example.com%22",
                None, HEADERS)
    if case == "get":
        return "GET", f"/scim/v2/Users/{k}", None, HEADERS
    if case == "create":
        u = f"prof-{int(time.time())}-{i}"
        return "POST", "/scim/v2/Users", lua.SCIM_USER % (u, u, u), HEADERS
    if case == "deactivate":
        on = "true" if (i // users) % 2 else "false"
        return "PATCH", f"/scim/v2/Users/{k}", lua.PATCH % on, HEADERS
    raise ValueError(case)


def drive(case, n, start, users):
    c = http.client.HTTPConnection("127.0.0.1", run.SIDECAR_PORT, timeout=60)
    for i in range(start, start + n):
        method, path, body, headers = request_for(case, i, users)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        if r.status >= 300:
            sys.exit(f"{method} {path}: {r.status}")
    c.close()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("case")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--profile-dir", default=os.path.join(run.ROOT, "target/profiling"))
    p.add_argument("--out", default=os.path.join(run.ROOT, "target/load"))
    p.add_argument("--sidecar", help="sidecar binary (default: the profiling build)")
    p.add_argument("--tag", default="", help="suffix of the output file")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, f"callgrind.{args.case}{args.tag}.out")
    sidecar_bin = args.sidecar or os.path.join(args.profile_dir, "scim-sidecar")
    app = subprocess.Popen([os.path.join(run.ROOT, "target/release/examples/load_app"),
                            f"127.0.0.1:{run.APP_PORT}", str(args.users)],
                           stderr=subprocess.DEVNULL)
    logs = tempfile.TemporaryFile()
    sidecar = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sidecar_bin, "run", "--config",
         os.path.join(run.HERE, "sidecar.toml")],
        stderr=logs, env={k: v for k, v in os.environ.items() if k != "RUST_LOG"})
    try:
        run.wait_port(run.APP_PORT, app, "app")
        for _ in range(600):
            try:
                http.client.HTTPConnection("127.0.0.1", run.SIDECAR_PORT, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.1)
        drive(args.case, 200, 0, args.users)  # warm up, not counted
        if args.case == "deactivate":
            run.http("POST", run.APP_PORT, "/__activate_all")
        subprocess.run(["callgrind_control", "-i", "on", str(sidecar.pid)], check=True,
                       capture_output=True)
        drive(args.case, args.requests, 10_000, args.users)
        subprocess.run(["callgrind_control", "-i", "off", str(sidecar.pid)], check=True,
                       capture_output=True)
    finally:
        sidecar.terminate()
        sidecar.wait()
        app.terminate()
    total = 0
    with open(out) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    print(json.dumps({"case": args.case, "requests": args.requests,
                      "instructions_per_request": round(total / args.requests)}))
    annotate = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                              capture_output=True, text=True).stdout
    print("\n".join(annotate.splitlines()[:60]))


if __name__ == "__main__":
    main()
