#!/usr/bin/env bash
# What loading N trivial application classes costs a fresh JVM: the floor under a library's cold
# start that no code of its own can lower (issue 16's cold build; ARCHITECTURE 10, "The fifty-
# seventh session"). Generates N classes of one small static method each and a main that calls
# each once, timed with System.nanoTime around the calls, then runs it RUNS times from a class
# directory and RUNS times from a jar, each in a fresh JVM.
#
#   bash bench/tools/class-floor.sh [N] [RUNS]      (defaults: 70 classes, 5 runs)
#   env: JAVA_HOME (default: the newest JDK under /usr/lib/jvm)
set -euo pipefail
N=${1:-70}
RUNS=${2:-5}
if [[ -z "${JAVA_HOME:-}" ]]; then
  JAVA_HOME=$(dirname "$(dirname "$(ls -d /usr/lib/jvm/*/bin/javac 2>/dev/null | sort -V | tail -1)")")
fi
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
for ((i = 0; i < N; i++)); do
  printf 'public class C%d { public static int f(int x) { int s = 0; for (int j = 0; j < x; j++) s += j * %d; return s; } }\n' \
    "$i" "$i" >"$DIR/C$i.java"
done
{
  echo 'public class Main { public static void main(String[] a) { long t0 = System.nanoTime(); int s = 0;'
  for ((i = 0; i < N; i++)); do echo "s += C$i.f(3);"; done
  echo 'long t1 = System.nanoTime(); System.out.printf("%.1f ms (%d)%n", (t1 - t0) / 1e6, s); } }'
} >"$DIR/Main.java"
"$JAVA_HOME/bin/javac" -d "$DIR/out" "$DIR"/*.java
"$JAVA_HOME/bin/jar" cf "$DIR/c.jar" -C "$DIR/out" .
echo "$N classes, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
for ((r = 1; r <= RUNS; r++)); do
  printf 'directory %s   jar %s\n' "$("$JAVA_HOME/bin/java" -cp "$DIR/out" Main)" "$("$JAVA_HOME/bin/java" -cp "$DIR/c.jar" Main)"
done
