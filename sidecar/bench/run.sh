#!/usr/bin/env bash
# The sidecar under wrk, side by side with nginx, in one run (sidecar/README.md, "Performance"):
#   (a)  direct: the application, an nginx of its own (one worker) answering a static `ok`
#   (b)  nginx proxy_pass to (a), verifying nothing
#   (c)  pomerium-jwt-sidecar, mode 1, to (a), with a valid token of 20 groups (default tables)
#   (c0) the same sidecar with every path public (`--public-path /`): its proxying alone, the
#        floor under (c)
#   (d)  nginx auth_request to pomerium-jwt-sidecar (mode 2), then proxy_pass to (a)
#   (du) the same, nginx asking over a Unix socket (`--listen unix:PATH`)
#   (d0) nginx auth_request to a server that answers 200 without looking (an nginx of its own):
#        nginx's own cost of asking, the floor under (d); (d0u) the same over a Unix socket
# The front nginx runs with `worker_processes auto`, as Debian ships it, the sidecar with its
# default threads (one per core): each may use every core, as in a deployment. Interleaved:
# ROUNDS rounds of every setup, each DURATION long; the table takes each setup's median round.
# Beside each it prints the CPU time per request of each process (user + system, from /proc),
# which on a machine where all of them share the cores is what the requests/s divide. The
# sidecar's peak resident memory (VmHWM) is read after the runs.
#
#   bash sidecar/bench/run.sh                       # 3 rounds of 10 s, 32 connections
#   ROUNDS=5 DURATION=20s CONNECTIONS=64 bash sidecar/bench/run.sh
#
# Needs: nginx, wrk, openssl, python3 (Debian packages); everything on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
AUD=app.example.com
work=$(mktemp -d)
chmod 755 "$work" # nginx's workers (another user) reach the Unix sockets in it
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

nice -n 5 cargo build --release --locked -p pomerium-jwt-sidecar >&2
bin=$PWD/target/release/pomerium-jwt-sidecar

# A key and a token from OpenSSL: Pomerium's claims, 20 groups, valid an hour.
openssl ecparam -genkey -name prime256v1 -noout -out "$work/key.pem"
openssl ec -in "$work/key.pem" -pubout -out "$work/pub.pem" 2>/dev/null
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
groups=$(python3 -c 'import json; print(json.dumps(["group-%02d@example.com" % i for i in range(20)]))')
header=$(printf '{"alg":"ES256","typ":"JWT"}' | b64url)
payload=$(printf '{"aud":"%s","email":"alice@example.com","exp":%d,"groups":%s,"iat":%d,"iss":"%s","jti":"5f0e9a3c","name":"Alice","sid":"b7c4e2d1","sub":"alice-id-0001","user":"alice-id-0001"}' \
    "$AUD" $((now + 3600)) "$groups" "$now" "$AUD" | b64url)
printf '%s.%s' "$header" "$payload" >"$work/input"
openssl dgst -sha256 -sign "$work/key.pem" -out "$work/sig.der" "$work/input"
signature=$(python3 - "$work/sig.der" <<'PY'
import base64, sys
der = open(sys.argv[1], "rb").read()
# SEQUENCE { INTEGER r, INTEGER s }, short lengths for P-256.
i = 2
r_len = der[i + 1]; r = der[i + 2:i + 2 + r_len]; i += 2 + r_len
s_len = der[i + 1]; s = der[i + 2:i + 2 + s_len]
raw = int.from_bytes(r, "big").to_bytes(32, "big") + int.from_bytes(s, "big").to_bytes(32, "big")
print(base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
PY
)
token="$header.$payload.$signature"

A=18081 B=18082 C=18083 D=18084 S2=18085 C0=18086 D0=18087 YES=18088 DU=18089 D0U=18090
# The application: its own process, as an application is. The yes-sayer of (d0): its own
# process too, like the sidecar, with a worker per core as the sidecar has a thread per core.
mkdir -p "$work/app" "$work/yes" "$work/nginx"
cat >"$work/app/nginx.conf" <<NGINX
worker_processes 1;
events { worker_connections 4096; }
http {
    access_log off;
    server { listen 127.0.0.1:$A; location / { default_type text/plain; return 200 "ok"; } }
}
NGINX
cat >"$work/yes/nginx.conf" <<NGINX
worker_processes auto;
events { worker_connections 4096; }
http {
    access_log off;
    server { listen 127.0.0.1:$YES; listen unix:$work/yes.sock; location / { return 200; } }
}
NGINX
# The auth location is the one of sidecar/deploy/nginx.conf, less the claims it does not need.
auth_location() {
    cat <<LOCATION
        location = /.auth {
            internal;
            proxy_pass http://$1; proxy_http_version 1.1; proxy_set_header Connection "";
            proxy_pass_request_body off; proxy_set_header Content-Length "";
            proxy_set_header Host \$host; proxy_set_header X-Original-URI \$request_uri;
        }
LOCATION
}
# A server on port $1 that asks upstream $2 about every request, then proxies it to the app.
auth_server() {
    cat <<SERVER
    server {
        listen 127.0.0.1:$1;
$(auth_location "$2")
        location / {
            auth_request /.auth;
            auth_request_set \$claim_email \$upstream_http_x_pomerium_claim_email;
            proxy_set_header X-Pomerium-Claim-Email \$claim_email;
            proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
        }
    }
SERVER
}
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
events { worker_connections 4096; }
http {
    access_log off;
    upstream app { server 127.0.0.1:$A; keepalive 64; }
    upstream sidecar { server 127.0.0.1:$S2; keepalive 64; }
    upstream yes { server 127.0.0.1:$YES; keepalive 64; }
    upstream sidecar_unix { server unix:$work/sidecar.sock; keepalive 64; }
    upstream yes_unix { server unix:$work/yes.sock; keepalive 64; }
    server {
        listen 127.0.0.1:$B;
        location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
$(auth_server $D sidecar)
$(auth_server $DU sidecar_unix)
$(auth_server $D0 yes)
$(auth_server $D0U yes_unix)
}
NGINX
for n in app nginx yes; do
    nginx -p "$work/$n" -c "$work/$n/nginx.conf" -e "$work/$n/error.log" -g "daemon off; pid $work/$n/nginx.pid;" &
    pids+=($!)
done
nginx_app=${pids[0]} nginx_front=${pids[1]} nginx_yes=${pids[2]}
RUST_LOG=warn "$bin" --listen 127.0.0.1:$C --upstream http://127.0.0.1:$A --key "$work/pub.pem" --audience $AUD 2>"$work/c.log" &
pid_c=$!; pids+=($pid_c)
RUST_LOG=warn "$bin" --listen 127.0.0.1:$C0 --upstream http://127.0.0.1:$A --key "$work/pub.pem" --audience $AUD \
    --public-path / 2>"$work/c0.log" &
pid_c0=$!; pids+=($pid_c0)
RUST_LOG=warn "$bin" --auth-only --listen 127.0.0.1:$S2 --key "$work/pub.pem" --audience $AUD 2>"$work/d.log" &
pid_d=$!; pids+=($pid_d)
RUST_LOG=warn "$bin" --auth-only --listen "unix:$work/sidecar.sock" --key "$work/pub.pem" --audience $AUD 2>"$work/du.log" &
pid_du=$!; pids+=($pid_du)
for port in $A $B $C $C0 $D $DU $D0 $D0U $S2 $YES; do
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
done
for _ in $(seq 100); do [ -S "$work/sidecar.sock" ] && break; sleep 0.05; done
# Every setup must answer 200 with the token, and the verifying ones 401 without: a benchmark of
# errors would measure nothing.
for port in $A $B $C $C0 $D $DU $D0 $D0U; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $AUD" -H "X-Pomerium-Jwt-Assertion: $token" http://127.0.0.1:$port/)
    [ "$code" = 200 ] || { echo "setup on port $port answered $code"; cat "$work"/*.log; exit 1; }
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $AUD" http://127.0.0.1:$C/)" = 401 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $AUD" http://127.0.0.1:$D/)" = 401 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $AUD" http://127.0.0.1:$DU/)" = 401 ]

# CPU time (user + system, clock ticks) of each process, each nginx's workers summed.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu() {
    local front=0 worker
    for worker in $(pgrep -P "$nginx_front"); do front=$((front + $(ticks "$worker"))); done
    local yes=0
    for worker in $(pgrep -P "$nginx_yes"); do yes=$((yes + $(ticks "$worker"))); done
    echo "$front $(ticks "$(pgrep -P "$nginx_app")") $(ticks $pid_c) $(ticks $pid_c0) $(ticks $pid_d) $yes $(ticks $pid_du)"
}

setups="a b c c0 d du d0 d0u"
declare -A name=([a]="(a) application" [b]="(b) nginx proxy_pass" [c]="(c) sidecar mode 1" [c0]="(c0) sidecar mode 1, all public"
    [d]="(d) nginx auth_request + sidecar" [du]="(du) the same over a Unix socket"
    [d0]="(d0) nginx auth_request + 200" [d0u]="(d0u) the same over a Unix socket")
declare -A port=([a]=$A [b]=$B [c]=$C [c0]=$C0 [d]=$D [du]=$DU [d0]=$D0 [d0u]=$D0U)
for round in $(seq "$ROUNDS"); do
    for setup in $setups; do
        before=$(cpu)
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Host: $AUD" -H "X-Pomerium-Jwt-Assertion: $token" \
            "http://127.0.0.1:${port[$setup]}/" >"$work/$setup.$round"
        echo "$before $(cpu)" >"$work/$setup.$round.cpu"
        echo "round $round ${name[$setup]}: $(grep 'Requests/sec' "$work/$setup.$round")" >&2
        grep -q 'Non-2xx' "$work/$setup.$round" && { echo "non-2xx answers in $setup:"; cat "$work/$setup.$round"; exit 1; }
    done
done
mkdir -p target/sidecar-bench && for setup in $setups; do cp "$work/$setup".* target/sidecar-bench/; done  # the raw wrk outputs
rss() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

python3 - "$work" "$ROUNDS" "$(getconf CLK_TCK)" "$(rss $pid_c)" "$(rss $pid_d)" "$(rss $pid_du)" <<'PY'
import re, sys
work, rounds, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rss_c, rss_d = int(sys.argv[4]), max(int(sys.argv[5]), int(sys.argv[6]))
def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
setups = ["a", "b", "c", "c0", "d", "du", "d0", "d0u"]
rows, per_round = {}, {}
for setup in setups:
    runs = []
    for r in range(1, rounds + 1):
        out = open(f"{work}/{setup}.{r}").read()
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
        p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
        ticks = [int(t) for t in open(f"{work}/{setup}.{r}.cpu").read().split()]
        # front nginx, application, sidecar (c), sidecar (c0), sidecar (d), the yes-sayer,
        # sidecar (du): microseconds a request
        cpu = [(after - before) * 1e6 / hz / requests for before, after in zip(ticks[:7], ticks[7:])]
        runs.append((rps, p50, p99, cpu))
    per_round[setup] = runs
    rows[setup] = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
names = {"a": "(a) the application: nginx, static `ok`", "b": "(b) nginx `proxy_pass`, no auth",
         "c": "(c) sidecar, mode 1", "c0": "(c0) sidecar, mode 1, every path public (floor of (c))",
         "d": "(d) nginx `auth_request` + sidecar, mode 2", "du": "(du) the same, over a Unix socket",
         "d0": "(d0) nginx `auth_request` + a static 200 (floor of (d))",
         "d0u": "(d0u) the same, over a Unix socket (floor of (du))"}
# Which processes serve each setup: front nginx, application, then the sidecar it runs through
# (or, for (d0), the nginx that answers 200).
sidecar = {"c": 2, "c0": 3, "d": 4, "d0": 5, "du": 6, "d0u": 5}
# Ratios are taken round by round (setups of one round ran a minute apart, under the same
# load), then the median over rounds: steadier than a ratio of medians on a shared machine.
def ratio(x, y, field):
    values = sorted(a[field] / b[field] for a, b in zip(per_round[x], per_round[y]))
    return values[len(values) // 2]
def cpu_median(setup, process):
    values = sorted(run[3][process] for run in per_round[setup])
    return values[len(values) // 2]
print("| setup | requests/s | p50 | p99 | req/s vs (b) | p99 vs (b) | CPU µs per request: nginx in front / sidecar (d0: the 200) / application |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for s in setups:
    rps, p50, p99, _ = rows[s]
    front = f"{cpu_median(s, 0):.1f}" if s in ("b", "d", "du", "d0", "d0u") else "-"
    side = f"{cpu_median(s, sidecar[s]):.1f}" if s in sidecar else "-"
    print(f"| {names[s]} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {ratio(s, 'b', 0):.2f} x | {ratio(s, 'b', 2):.2f} x "
          f"| {front} / {side} / {cpu_median(s, 1):.1f} |")
print()
print(f"Sidecar peak RSS (VmHWM): mode 1 {rss_c / 1024:.1f} MiB, mode 2 {rss_d / 1024:.1f} MiB.")
c, c99, d, du = ratio("c", "b", 0), ratio("c", "b", 2), ratio("d", "b", 0), ratio("du", "b", 0)
print(f"Targets: (c) >= 1.0 x (b) req/s: {c:.2f} x {'met' if c >= 1.0 else 'NOT met'}; "
      f"(c) p99 <= 1.5 x (b): {c99:.2f} x {'met' if c99 <= 1.5 else 'NOT met'}; "
      f"(d) >= 0.8 x (b): {d:.2f} x {'met' if d >= 0.8 else 'NOT met'} over TCP, "
      f"{du:.2f} x {'met' if du >= 0.8 else 'NOT met'} over a Unix socket; "
      f"RSS <= 32 MiB: {'met' if max(rss_c, rss_d) <= 32 * 1024 else 'NOT met'}.")
print(f"Floors: (c0) / (b) = {ratio('c0', 'b', 0):.2f} x (the sidecar's proxying alone); "
      f"(c) / (c0) = {ratio('c', 'c0', 0):.2f} x (what verifying costs mode 1); "
      f"(d0) / (b) = {ratio('d0', 'b', 0):.2f} x and (d0u) / (b) = {ratio('d0u', 'b', 0):.2f} x (the most any "
      f"auth_request service could reach here, over TCP and a Unix socket); "
      f"(d) / (d0) = {ratio('d', 'd0', 0):.2f} x and (du) / (d0u) = {ratio('du', 'd0u', 0):.2f} x "
      f"(the sidecar's answer next to a static 200).")
for s in setups:
    print(f"Per round, {names[s].split(' ')[0]} req/s: " + ", ".join(f"{run[0]:,.0f}" for run in per_round[s]))
PY
