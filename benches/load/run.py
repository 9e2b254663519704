#!/usr/bin/env python3
"""Load harness: the app alone, through scim-sidecar, through nginx (and
HAProxy when installed), side by side in one run. See README.md beside
this file; `benches/load/run.sh` builds and calls this.

Servers run on core 0, wrk on core 1. Every (case, target) pair is run
`--reps` times, interleaved (rep 1 of every pair, then rep 2, ...), and
the median is reported. CPU per request is the process's own user+system
time from /proc/<pid>/stat over the run divided by the requests wrk
completed; app calls per SCIM request come from the app's own counter.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import lua

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
APP_PORT, SIDECAR_PORT, NGINX_PORT, HAPROXY_PORT = 18000, 18080, 18081, 18082
NGINX2_PORT = 18083
SERVER_CORE, LOAD_CORE = "0", "1"
NICE = -10
TICK = os.sysconf("SC_CLK_TCK")
PASS_CASES = [("small", "GET /small"), ("upload", "POST 1 KiB"), ("big", "GET 100 KiB")]
SCIM_CASES = ["lookup", "get", "page", "create", "deactivate"]
# Mapping shapes: the sidecar's config and the app's extra argument.
SHAPES = {"bench": ("sidecar.toml", []), "okta": ("sidecar-okta.toml", ["okta"])}


def app_cmd(app, users, shape):
    """The app's command line for a mapping shape."""
    return [app, f"127.0.0.1:{APP_PORT}", str(users)] + SHAPES[shape][1]


def sidecar_env(log_sink):
    """The sidecar's environment: its info log ("file", the default level)
    or only warnings and errors ("off")."""
    env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    if log_sink == "off":
        env["RUST_LOG"] = "warn"
    return env


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def wait_port(port, proc, what):
    for _ in range(200):
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on {port}")


def prio():
    """On a shared machine, builds running beside the harness disturb it
    less when the measured processes run at a higher priority (root only)."""
    return ["nice", "-n", str(NICE)] if NICE and os.geteuid() == 0 else []


def pinned(cmd, core=None):
    core = core or SERVER_CORE
    return prio() + (["taskset", "-c", core] if shutil.which("taskset") else []) + cmd


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def peak_rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class Server:
    """A process under test; `pids` are the ones whose CPU is counted."""

    def __init__(self, name, cmd, port, cwd=None, env=None, stderr=None, core=None):
        self.name, self.port = name, port
        self.proc = subprocess.Popen(
            pinned(cmd, core), cwd=cwd, env=env, stdout=subprocess.DEVNULL,
            stderr=stderr or subprocess.DEVNULL)
        wait_port(port, self.proc, name)

    @property
    def pids(self):
        return [self.proc.pid] + children(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def http(method, port, path, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def app_calls():
    return int(http("GET", APP_PORT, "/__calls"))


def parse_duration(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    scale = {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[m.group(2)]
    return float(m.group(1)) * scale


def wrk(port, path, conns, seconds, script=None):
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    cmd = pinned(cmd, LOAD_CORE)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": int(done.group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": parse_duration(lat["50"]),
        "p99": parse_duration(lat["99"]),
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errs.group(1) if errs else "",
    }


def measure(target, port, path, conns, seconds, script=None, count_calls=False):
    """One wrk run with the CPU of the target (and of the app) around it."""
    calls0 = app_calls() if count_calls else 0
    t0, a0 = cpu_ticks(target.pids), cpu_ticks(APP.pids)
    r = wrk(port, path, conns, seconds, script)
    t1, a1 = cpu_ticks(target.pids), cpu_ticks(APP.pids)
    n = max(r["requests"], 1)
    r["cpu_us"] = (t1 - t0) / TICK / n * 1e6
    r["app_cpu_us"] = (a1 - a0) / TICK / n * 1e6
    if count_calls:
        r["app_calls"] = (app_calls() - calls0) / n
    if r["non2xx"] or r["socket_errors"]:
        log(f"  warning: {target.name} {path}: {r['non2xx']} non-2xx, "
            f"socket errors: {r['socket_errors'] or 'none'}")
    return r


def nginx_conf(tmp, workers=1, port=None):
    port = port or NGINX_PORT
    conf = os.path.join(tmp, f"nginx-{workers}.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off; master_process {"off" if workers == 1 else "on"}; worker_processes {workers};
pid {tmp}/nginx-{workers}.pid; error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  upstream app {{ server 127.0.0.1:{APP_PORT}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_buffers 16 16k;
    }}
  }}
}}
""")
    return conf


def haproxy_conf(tmp):
    conf = os.path.join(tmp, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:{HAPROXY_PORT}
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  default_backend app
backend app
  server app 127.0.0.1:{APP_PORT}
""")
    return conf


def start_all(args, users, tmp):
    global APP
    APP = Server("app", app_cmd(args.app, users, args.shape), APP_PORT)
    log_file = open(os.path.join(tmp, f"sidecar-{users}.log"), "w")
    targets = {"direct": APP}
    targets["sidecar"] = sidecar_server(args, log_file)
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        targets["nginx"] = Server("nginx", [nginx, "-p", tmp, "-c", nginx_conf(tmp)],
                                  NGINX_PORT)
    if not args.no_haproxy and (shutil.which("haproxy") or os.path.exists("/usr/sbin/haproxy")):
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        targets["haproxy"] = Server("haproxy", [haproxy, "-f", haproxy_conf(tmp)],
                                    HAPROXY_PORT)
    return targets


def sidecar_server(args, log_file, threads=None, core=None):
    """The sidecar under test; `threads` and `core` for the two-core runs."""
    cmd = [args.sidecar, "run", "--config", os.path.join(HERE, SHAPES[args.shape][0])]
    if threads:
        cmd += ["--worker-threads", str(threads)]
    return Server("sidecar", cmd, SIDECAR_PORT, env=sidecar_env(args.log), stderr=log_file,
                  core=core)


PORTS = {"direct": APP_PORT, "sidecar": SIDECAR_PORT, "nginx": NGINX_PORT,
         "haproxy": HAPROXY_PORT}


def scim_runs(args, users, tmp, rep, results):
    for case in SCIM_CASES:
        for target in ("direct", "sidecar"):
            if case == "deactivate":
                http("POST", APP_PORT, "/__activate_all")
            tag = f"u{users}r{rep}{target[0]}{int(time.time())}"
            path = os.path.join(tmp, f"{case}-{target}.lua")
            with open(path, "w") as f:
                f.write(lua.script(case, "scim" if target == "sidecar" else "direct",
                                   users, tag, args.shape))
            r = measure(TARGETS[target], PORTS[target], "/", args.conns, args.duration,
                        path, count_calls=True)
            results.setdefault((users, case, target), []).append(r)
            log(f"  {users} users rep {rep} {case:<10} {target:<8} {r['rps']:>9.0f} req/s "
                f"p50 {r['p50']:>7.0f} us  cpu {r['cpu_us']:5.1f} us  "
                f"calls {r['app_calls']:.2f}")


def pass_runs(args, rep, results):
    for case, _ in PASS_CASES:
        for target in TARGETS:
            script = None
            if case == "upload":
                script = os.path.join(TMP, "upload.lua")
                with open(script, "w") as f:
                    f.write(lua.UPLOAD)
            path = {"small": "/small", "upload": "/upload", "big": "/big"}[case]
            r = measure(TARGETS[target], PORTS[target], path, args.conns, args.duration, script)
            results.setdefault(("pass", case, target), []).append(r)
            log(f"  pass rep {rep} {case:<7} {target:<8} {r['rps']:>9.0f} req/s "
                f"p50 {r['p50']:>7.0f} us  cpu {r['cpu_us']:5.1f} us")


def latency_runs(args, rep, results):
    for target in TARGETS:
        r = measure(TARGETS[target], PORTS[target], "/small", 1, args.latency_duration)
        results.setdefault(("lat1", "small", target), []).append(r)
    for case in ("lookup", "get"):
        for target in ("direct", "sidecar"):
            path = os.path.join(TMP, f"lat-{case}-{target}.lua")
            with open(path, "w") as f:
                f.write(lua.script(case, "scim" if target == "sidecar" else "direct",
                                   1000, f"lat{rep}"))
            r = measure(TARGETS[target], PORTS[target], "/", 1, args.latency_duration, path)
            results.setdefault(("lat1", case, target), []).append(r)


SCALE_CASES = [("small", "pass-through GET /small"), ("get", "SCIM get"),
               ("nginx-small", "nginx GET /small (workers, not threads)")]


def scale_runs(args, rep, results):
    """The sidecar with one worker thread on core 0, then with two on both
    cores; the app stays on core 0 and wrk on core 1. On a two-core machine
    the load generator and the app share the cores the sidecar scales to,
    so the rate ratio understates the sidecar's own scaling; the CPU per
    request at two threads against one is the part that is the sidecar's.
    nginx with one worker on core 0, then two workers on both cores, is the
    reference for what the machine itself does to CPU per request."""
    if "nginx" in TARGETS:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        two = Server("nginx2", [nginx, "-p", TMP, "-c", nginx_conf(TMP, 2, NGINX2_PORT)],
                     NGINX2_PORT, core=f"{SERVER_CORE},{LOAD_CORE}")
        try:
            for n, (t, port) in (("1", (TARGETS["nginx"], NGINX_PORT)), ("2", (two, NGINX2_PORT))):
                wrk(port, "/small", args.conns, 1)
                r = measure(t, port, "/small", args.conns, args.duration)
                results.setdefault(("scale", "nginx-small", n), []).append(r)
                log(f"  scale rep {rep} nginx  {n} worker(s) {r['rps']:>9.0f} req/s "
                    f"cpu {r['cpu_us']:5.1f} us")
        finally:
            two.stop()
    for threads, core in ((1, SERVER_CORE), (2, f"{SERVER_CORE},{LOAD_CORE}")):
        TARGETS["sidecar"].stop()
        log_file = open(os.path.join(TMP, f"sidecar-scale-{threads}.log"), "w")
        TARGETS["sidecar"] = sidecar_server(args, log_file, threads, core)
        wrk(SIDECAR_PORT, "/small", args.conns, 1)
        for case, _ in SCALE_CASES[:2]:
            script = None
            if case != "small":
                script = os.path.join(TMP, f"scale-{case}-{threads}.lua")
                with open(script, "w") as f:
                    f.write(lua.script(case, "scim", 1000, f"scale{rep}{threads}", args.shape))
            r = measure(TARGETS["sidecar"], SIDECAR_PORT, "/small" if case == "small" else "/",
                        args.conns, args.duration, script)
            results.setdefault(("scale", case, str(threads)), []).append(r)
            log(f"  scale rep {rep} {case:<6} {threads} thread(s) {r['rps']:>9.0f} req/s "
                f"cpu {r['cpu_us']:5.1f} us")


def calls_of(path, headers, n=20):
    before = app_calls()
    for _ in range(n):
        http("GET", SIDECAR_PORT, path, headers)
    return (app_calls() - before) / n


def fixed_costs(users):
    """App calls of a pushed-down lookup and of an import page."""
    h = {"Authorization": f"Bearer {lua.TOKEN}"}
    k = users // 2
    return {
        "lookup_calls": calls_of(
            f"/scim/v2/Users?filter=userName%20eq%20%22user{k}%40example.com%22", h),
        "import_page_calls": calls_of(f"/scim/v2/Users?startIndex={k}&count=100", h),
    }


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def ratio(a, b):
    """The median over reps of a/b req/s, each rep's pair run back to back
    (steadier on a shared machine than a ratio of medians)."""
    return statistics.median(x["rps"] / y["rps"] for x, y in zip(a, b))


def main():
    global TARGETS, TMP  # noqa: PLW0603 (one run, one set of servers)
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sidecar", default=os.path.join(ROOT, "target/release/scim-sidecar"))
    p.add_argument("--app", default=os.path.join(ROOT, "target/release/examples/load_app"))
    p.add_argument("--users", default="1000,100000")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    p.add_argument("--latency-duration", type=int, default=2)
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--no-haproxy", action="store_true")
    p.add_argument("--nice", type=int, default=-10,
                   help="priority of the measured processes when run as root (0: unchanged)")
    p.add_argument("--only", default="", help="comma list of: pass,scim,latency,scale")
    p.add_argument("--shape", choices=sorted(SHAPES), default="bench",
                   help="user mapping: sidecar.toml (bench) or the Okta-shaped one (okta)")
    p.add_argument("--log", choices=["file", "off"], default="file",
                   help="the sidecar's info log written to a file, or warnings only")
    p.add_argument("--out", default=os.path.join(ROOT, "target/load"))
    p.add_argument("--report", help="print the table again from a saved .json, run nothing")
    args = p.parse_args()
    if args.report:
        return report_saved(args)
    global NICE
    NICE = args.nice
    only = set(filter(None, args.only.split(",")))
    results, fixed, rss = {}, {}, {}
    TMP = tempfile.mkdtemp(prefix="scim-load-")
    for users in [int(u) for u in args.users.split(",")]:
        TARGETS = start_all(args, users, TMP)
        first = users == int(args.users.split(",")[0])
        try:
            log(f"== {users} users; targets: {', '.join(TARGETS)}")
            for name, t in TARGETS.items():  # warm pools and allocators
                wrk(PORTS[name], "/small", args.conns, 1)
            for rep in range(1, args.reps + 1):
                if first and (not only or "pass" in only):
                    pass_runs(args, rep, results)
                if first and (not only or "latency" in only):
                    latency_runs(args, rep, results)
                if not only or "scim" in only:
                    scim_runs(args, users, TMP, rep, results)
            fixed[users] = fixed_costs(users)
            rss[users] = {n: peak_rss_kib(t.pids) / 1024 for n, t in TARGETS.items()}
            if first and (not only or "scale" in only):
                for rep in range(1, args.reps + 1):
                    scale_runs(args, rep, results)
        finally:
            for t in reversed(list(TARGETS.values())):
                t.stop()
    report(args, results, fixed, rss)


def report_saved(args):
    with open(args.report) as f:
        saved = json.load(f)
    fixed = {int(k): v for k, v in saved.pop("fixed").items()}
    rss = {int(k): v for k, v in saved.pop("rss").items()}
    meta = saved.pop("meta", {})
    for k, v in meta.items():
        setattr(args, k, v)
    results = {}
    for key, rs in saved.items():
        a, case, target = key.split("|")
        results[(int(a) if a.isdigit() else a, case, target)] = rs
    report(args, results, fixed, rss, write=False)


def report(args, results, fixed, rss, write=True):
    commit = getattr(args, "commit", None) or subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True).stdout.strip()
    when = getattr(args, "when", None) or datetime.date.today().isoformat()
    lines = [f"Load harness, {when}, commit {commit}, {args.reps} interleaved reps "
             f"(medians), {args.conns} connections, {args.duration} s per run; "
             f"servers on core {SERVER_CORE}, wrk on core {LOAD_CORE}; mapping "
             f"{getattr(args, 'shape', 'bench')}, sidecar log "
             f"{getattr(args, 'log', 'file')}.", ""]
    users_list = sorted({k[0] for k in results if isinstance(k[0], int)})
    for users in users_list:
        lines += [f"SCIM, {users} users:", "",
                  "| case | app direct req/s | sidecar req/s | ratio | p50 / p99 direct | "
                  "p50 / p99 sidecar | sidecar CPU/req | app calls/req |",
                  "|---|---|---|---|---|---|---|---|"]
        for case in SCIM_CASES:
            d, s = results.get((users, case, "direct")), results.get((users, case, "sidecar"))
            if not d or not s:
                continue
            lines.append(
                f"| {case} | {med(d, 'rps'):,.0f} | {med(s, 'rps'):,.0f} | "
                f"**{ratio(s, d):.2f}×** | "
                f"{med(d, 'p50'):.0f} / {med(d, 'p99'):.0f} µs | "
                f"{med(s, 'p50'):.0f} / {med(s, 'p99'):.0f} µs | "
                f"{med(s, 'cpu_us'):.1f} µs | {med(s, 'app_calls'):.2f} |")
        f = fixed.get(users, {})
        lines += ["", f"App calls with {users} users: pushed-down lookup "
                  f"{f.get('lookup_calls', 0):.2f}, import page of 100 "
                  f"{f.get('import_page_calls', 0):.2f}. Peak RSS: " + ", ".join(
                      f"{'app' if n == 'direct' else n} {v:.1f} MiB"
                      for n, v in rss.get(users, {}).items()), ""]
    names = [t for t in ("direct", "sidecar", "nginx", "haproxy")
             if any(k[2] == t and k[0] == "pass" for k in results)]
    if names:
        lines += ["Pass-through (req/s, p50 / p99, proxy CPU per request):", "",
                  "| case | " + " | ".join(names) + " | sidecar / nginx |",
                  "|---|" + "---|" * (len(names) + 1)]
        for case, label in PASS_CASES:
            cells = []
            for n in names:
                rs = results[("pass", case, n)]
                cpu = "" if n == "direct" else f", {med(rs, 'cpu_us'):.1f} µs"
                cells.append(f"{med(rs, 'rps'):,.0f} ({med(rs, 'p50'):.0f} / "
                             f"{med(rs, 'p99'):.0f} µs{cpu})")
            rel = ""
            if "nginx" in names:
                x = ratio(results[("pass", case, "sidecar")], results[("pass", case, "nginx")])
                rel = f"**{x:.2f}×**"
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {rel} |")
        lines.append("")
    if any(k[0] == "scale" for k in results):
        lines += ["Two cores (the sidecar with 1 worker thread on core 0, then 2 on cores "
                  "0–1; the app on core 0 and wrk on core 1 throughout):", "",
                  "| case | 1 thread req/s (CPU/req) | 2 threads req/s (CPU/req) | "
                  "rate ratio | scaling by CPU/req (2 × cpu₁ / cpu₂) |",
                  "|---|---|---|---|---|"]
        for case, label in SCALE_CASES:
            one, two = results.get(("scale", case, "1")), results.get(("scale", case, "2"))
            if not one or not two:
                continue
            lines.append(
                f"| {label} | {med(one, 'rps'):,.0f} ({med(one, 'cpu_us'):.1f} µs) | "
                f"{med(two, 'rps'):,.0f} ({med(two, 'cpu_us'):.1f} µs) | "
                f"**{ratio(two, one):.2f}×** | "
                f"**{2 * med(one, 'cpu_us') / med(two, 'cpu_us'):.2f}×** |")
        lines.append("")
    lat = {k: v for k, v in results.items() if k[0] == "lat1"}
    if lat:
        base = {c: med(lat[("lat1", c, "direct")], "p50")
                for c in ("small", "lookup", "get") if ("lat1", c, "direct") in lat}
        lines += ["Latency at one connection (p50; added over the app direct):", "",
                  "| case | target | p50 | added |", "|---|---|---|---|"]
        for (_, case, target), rs in sorted(lat.items()):
            p50 = med(rs, "p50")
            lines.append(f"| {case} | {target} | {p50:.0f} µs | "
                         f"{'' if target == 'direct' else f'+{p50 - base[case]:.0f} µs'} |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if not write:
        return
    os.makedirs(args.out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(args.out, f"load-{stamp}.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, f"load-{stamp}.json"), "w") as f:
        json.dump({"|".join(map(str, k)): v for k, v in results.items()} |
                  {"fixed": fixed, "rss": rss, "meta": {
                      "reps": args.reps, "conns": args.conns, "duration": args.duration,
                      "commit": commit, "when": when, "shape": args.shape,
                      "log": args.log}}, f, indent=1)


if __name__ == "__main__":
    main()
