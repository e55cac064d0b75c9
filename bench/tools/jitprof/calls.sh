#!/bin/bash
# Calls per work: how many times each method of cmwq4j (and of the JDK classes its path uses:
# ReentrantLock, AQS, LongAdder, LockSupport) is invoked, divided by the works a run made.
# JDK 25's JFR method timing counts every invocation of the listed classes' methods; -Xint
# keeps the JIT from inlining any of them, so the count is the path's calls as the interpreter
# runs them (the cost a fresh JVM pays before its compilers, and tier 3 for what it does not
# inline). ARCHITECTURE 10, "The number of calls per work, counted".
#
# Usage: CP=<classpath> calls.sh OUT WORKS MAINCLASS [ARGS...]
#   OUT    prefix of the files written: OUT.jfr, OUT.out (the program's output), OUT.calls
#   WORKS  the works the run made (all its rounds), to divide by
# Example, from the repository's root (JDK 25 first on the PATH):
#   mvn -q -pl bench -am dependency:build-classpath -Dmdep.outputFile=/tmp/deps.cp
#   CP=core/target/classes:bench/target/classes:$(cat /tmp/deps.cp) \
#     bench/tools/jitprof/calls.sh /tmp/calls 100000 dev.cmwq4j.bench.PerWorkCost locked execute 5 20000
set -e
OUT=$1; WORKS=$2; shift 2
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
classes=$(cd "$ROOT/core/target/classes" && find dev -name '*.class' | sed 's/\.class$//; s#/#.#g' | tr '\n' ';')
classes="${classes}java.util.concurrent.locks.ReentrantLock;java.util.concurrent.locks.ReentrantLock\$Sync"
classes="${classes};java.util.concurrent.locks.AbstractQueuedSynchronizer;java.util.concurrent.atomic.LongAdder"
classes="${classes};java.util.concurrent.atomic.Striped64;java.util.concurrent.locks.LockSupport"
java -Xint "-XX:StartFlightRecording:method-timing=$classes,filename=$OUT.jfr" -cp "$CP" "$@" > "$OUT.out" 2>&1
jfr print --events jdk.MethodTiming "$OUT.jfr" | python3 -c "
import re, sys
works = $WORKS
method = None
rows = []
for line in sys.stdin:
    m = re.match(r'\s+method = (.*)', line)
    if m:
        method = m.group(1)
    m = re.match(r'\s+invocations = ([\d,]+)', line)
    if m:
        rows.append((int(m.group(1).replace(',', '')), method))
rows.sort(reverse=True)
for n, name in rows:
    if n >= works * 0.05:
        print('%6.2f  %s' % (n / works, name))
print('all calls per work %.1f' % (sum(n for n, _ in rows) / works))
" > "$OUT.calls"
tail -1 "$OUT.calls"
