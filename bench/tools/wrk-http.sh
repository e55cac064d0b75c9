#!/usr/bin/env bash
# Issue 17's HTTP measurement with a real client: wrk against the JDK HttpServer
# (bench/.../scenario/HttpServe), one server JVM per peer and round, peers interleaved.
#
#   bash bench/tools/wrk-http.sh [ROUNDS] [PEERS] [HANDLER]
#     ROUNDS   rounds of every peer (default 2)
#     PEERS    comma-separated peer ids (default: cmwq,virtual,cached with plain sleeps, where
#              fjp-managed cannot see the sleeps and serves about 800 a second; with announced
#              ones, cmwq,fjp-managed,virtual,cached)
#     HANDLER  HttpServe's handler arguments (default "200 2000 100 plain": issue 17's handler,
#              200 us CPU, a 2 ms plain sleep, 100 us CPU; "200 2000 100 announced" announces
#              the sleep to the peers that can be told: cmwq's Blocking.sleep, fjp-managed's
#              ForkJoinPool.managedBlock)
#   env: WARMUP (s, default 10), DURATION (s, default 20), CONNECTIONS (default 64),
#        THREADS (wrk threads, default 2), JAVA (default: the newest JDK under /usr/lib/jvm)
#
# Needs wrk (Debian: apt-get install wrk) and the bench module built
# (mvn -q -pl bench -am install -DskipTests). Per run: a wrk warm-up of WARMUP seconds that is
# not recorded, then DURATION seconds recorded. Prints one line per run: requests a second,
# p50 and p99 latency (wrk's), the server's peak threads beyond the JVM's own (sampled every
# 100 ms over both phases, less the threads before the executor was made: the executor's workers
# or carriers plus the server's dispatcher), the whole process's CPU seconds and context
# switches per request (all threads, /proc) over the recorded phase, and the share of the
# machine's CPU time left idle meanwhile (/proc/stat: a server that leaves CPUs idle while
# requests wait serves fewer).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
HANDLER=${3:-200 2000 100 plain}
if [[ "$HANDLER" == *announced* ]]; then
  PEERS=${2:-cmwq,fjp-managed,virtual,cached}
else
  PEERS=${2:-cmwq,virtual,cached}
fi
WARMUP=${WARMUP:-10}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
if [[ -z "${JAVA:-}" ]]; then
  JAVA=$(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -V | tail -1)
  JAVA=${JAVA:-java}
fi
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 2; }
CPFILE=$(mktemp)
trap 'rm -f "$CPFILE"' EXIT
mvn -q -o -pl bench dependency:build-classpath -Dmdep.outputFile="$CPFILE" >/dev/null 2>&1 \
  || mvn -q -pl bench dependency:build-classpath -Dmdep.outputFile="$CPFILE" >/dev/null
CP="bench/target/classes:core/target/classes:$(cat "$CPFILE")"
HZ=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }

idle_total() { awk '/^cpu / {print $5, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }

printf '%-12s %5s %9s %8s %8s %7s %7s %7s %6s\n' peer round req/s p50 p99 threads cpu_s cs/req idle
for ((r = 1; r <= ROUNDS; r++)); do
  for peer in ${PEERS//,/ }; do
    port=$((18000 + RANDOM % 2000))
    out=$(mktemp)
    # shellcheck disable=SC2086
    "$JAVA" -cp "$CP" dev.cmwq4j.bench.scenario.HttpServe "$peer" "$port" $HANDLER >"$out" 2>&1 &
    pid=$!
    for _ in $(seq 200); do grep -q '^listening' "$out" && break; sleep 0.05; done
    grep -q '^listening' "$out" || { echo "server for $peer did not start:" >&2; cat "$out" >&2; kill $pid; exit 1; }
    ( while kill -0 $pid 2>/dev/null; do
        awk '/^Threads:/ {print $2}' /proc/$pid/status 2>/dev/null; sleep 0.1
      done ) >"$out.thr" &
    sampler=$!
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$port/" >/dev/null
    c0=$(cpu_ticks $pid); s0=$(switches $pid); read -r i0 t0 < <(idle_total)
    res=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$port/")
    c1=$(cpu_ticks $pid); s1=$(switches $pid); read -r i1 t1 < <(idle_total)
    kill $pid; wait $pid 2>/dev/null || true
    wait $sampler 2>/dev/null || true
    base=$(sed -n 's/.* base_threads \([0-9-]*\) .*/\1/p' "$out")
    peak=$(( $(sort -n "$out.thr" | tail -1) - base ))
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$res")
    reqs=$(awk '/requests in/ {print $1}' <<<"$res")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$res")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$res")
    errs=$(grep -E 'Non-2xx|Socket errors' <<<"$res" || true)
    cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
    cspr=$(awk -v a="$s0" -v b="$s1" -v n="$reqs" 'BEGIN {printf "%.2f", (n > 0 ? (b - a) / n : 0)}')
    idle=$(awk -v a="$i0" -v b="$i1" -v c="$t0" -v d="$t1" 'BEGIN {printf "%.1f%%", (d > c ? 100 * (b - a) / (d - c) : 0)}')
    printf '%-12s %5d %9s %8s %8s %7s %7s %7s %6s %s\n' "$peer" "$r" "$rps" "$p50" "$p99" "$peak" "$cpu" "$cspr" "$idle" "$errs"
    rm -f "$out" "$out.thr"
  done
done
