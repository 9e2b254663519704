#!/usr/bin/env python3
"""Instruction profile of the sidecar for one kind of request, steady on a
noisy machine: the app runs natively, the sidecar under valgrind's
callgrind with instrumentation off until warmed up, then N requests are
counted. Prints instructions per request and the top functions.

    cargo build --profile profiling --bin scim-sidecar --example load_app
    python3 benches/load/profile.py lookup --requests 2000
    python3 benches/load/profile.py lookup,get,create,deactivate --shape okta --log off
    cases: small (GET), upload (POST 1 KiB), big (GET 100 KiB) pass through;
           lookup, get, page (a list page of 100 users), create, deactivate are
           SCIM (a comma list runs each in turn)
    --shape bench|okta: the user mapping (sidecar.toml or sidecar-okta.toml)
    --log file|off: the sidecar's info log written to a file, or warnings only
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

# The pass-through POST of run.py's `upload` case: 1 KiB.
UPLOAD = b"x" * 1024
HEADERS = {"Authorization": f"Bearer {lua.TOKEN}",
           "Content-Type": "application/scim+json"}


def request_for(case, i, users, shape="bench"):
    k = i % users + 1
    if case == "small":
        return "GET", "/small", None, {}
    if case == "upload":
        return "POST", "/upload", UPLOAD, {"Content-Type": "application/octet-stream"}
    if case == "big":
        return "GET", "/big", None, {}
    if case == "lookup":
        return ("GET", f"/scim/v2/Users?filter=userName%20eq%20%22user{k}%40example.com%22",
                None, HEADERS)
    if case == "get":
        return "GET", f"/scim/v2/Users/{k}", None, HEADERS
    if case == "page":
        start = (i * 100) % users + 1
        return "GET", f"/scim/v2/Users?startIndex={start}&count=100", None, HEADERS
    if case == "create":
        u = f"prof-{int(time.time())}-{i}"
        tmpl = lua.SCIM_USER_OKTA if shape == "okta" else lua.SCIM_USER
        return "POST", "/scim/v2/Users", tmpl % (u, u, u), HEADERS
    if case == "deactivate":
        on = "true" if (i // users) % 2 else "false"
        return "PATCH", f"/scim/v2/Users/{k}", lua.PATCH % on, HEADERS
    raise ValueError(case)


def drive(case, n, start, users, shape="bench"):
    c = http.client.HTTPConnection("127.0.0.1", run.SIDECAR_PORT, timeout=60)
    for i in range(start, start + n):
        method, path, body, headers = request_for(case, i, users, shape)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        if r.status >= 300:
            sys.exit(f"{method} {path}: {r.status}")
    c.close()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("case", help="a case or a comma list of cases")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--shape", choices=sorted(run.SHAPES), default="bench")
    p.add_argument("--log", choices=["file", "off"], default="file")
    p.add_argument("--top", type=int, default=60,
                   help="lines of callgrind_annotate to print (0: none)")
    p.add_argument("--profile-dir", default=os.path.join(run.ROOT, "target/profiling"))
    p.add_argument("--out", default=os.path.join(run.ROOT, "target/load"))
    p.add_argument("--sidecar", help="sidecar binary (default: the profiling build)")
    p.add_argument("--app", help="app binary (default: the release build, else the profiling one)")
    p.add_argument("--tag", default="", help="suffix of the output file")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for case in args.case.split(","):
        profile(case, args)


def profile(case, args):
    out = os.path.join(args.out, f"callgrind.{case}.{args.shape}.{args.log}{args.tag}.out")
    sidecar_bin = args.sidecar or os.path.join(args.profile_dir, "scim-sidecar")
    app_bin = args.app or os.path.join(run.ROOT, "target/release/examples/load_app")
    if not args.app and not os.path.exists(app_bin):
        app_bin = os.path.join(args.profile_dir, "examples/load_app")
    app = subprocess.Popen(run.app_cmd(app_bin, args.users, args.shape),
                           stderr=subprocess.DEVNULL)
    logs = tempfile.TemporaryFile()
    sidecar = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sidecar_bin, "run", "--config",
         os.path.join(run.HERE, run.SHAPES[args.shape][0])],
        stderr=logs, env=run.sidecar_env(args.log))
    try:
        run.wait_port(run.APP_PORT, app, "app")
        for _ in range(600):
            try:
                http.client.HTTPConnection("127.0.0.1", run.SIDECAR_PORT, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.1)
        drive(case, 200, 0, args.users, args.shape)  # warm up, not counted
        if case == "deactivate":
            run.http("POST", run.APP_PORT, "/__activate_all")
        subprocess.run(["callgrind_control", "-i", "on", str(sidecar.pid)], check=True,
                       capture_output=True)
        drive(case, args.requests, 10_000, args.users, args.shape)
        subprocess.run(["callgrind_control", "-i", "off", str(sidecar.pid)], check=True,
                       capture_output=True)
    finally:
        sidecar.terminate()
        sidecar.wait()
        app.terminate()
        app.wait()
    total = 0
    with open(out) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    print(json.dumps({"case": case, "shape": args.shape, "log": args.log,
                      "requests": args.requests,
                      "instructions_per_request": round(total / args.requests)}), flush=True)
    if args.top:
        annotate = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                                  capture_output=True, text=True).stdout
        print("\n".join(annotate.splitlines()[:args.top]))


if __name__ == "__main__":
    main()
