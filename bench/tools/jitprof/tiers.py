#!/usr/bin/env python3
r"""Where each thread's CPU went in a cold JVM: by compilation tier, interpreter, VM and kernel.

Inputs: a -XX:+LogCompilation log (its nmethod records give each compiled method's address, size
and tier), the agent's dump (codedump.c: the interpreter's and the stubs' addresses) and
`perf script -F comm,tid,time,ip,sym`. For each thread name prefix given, over the lifetime of the
first one's threads: the share of its samples in C2 code, C1 code (per level), the interpreter,
stubs, the kernel and the rest of the VM, and its hottest methods with their tier.

Usage: tiers.py COMPILATION_LOG CODE_DUMP SAMPLES THREAD[,THREAD...] [TOP]

For one cold scenario cell (CP: core and bench classes and the bench's dependencies,
`mvn -q -pl bench -am dependency:build-classpath -Dmdep.outputFile=/tmp/deps.cp`):

  perf record -e cpu-clock -F 9999 -o /tmp/perf.data -- java -XX:+UnlockDiagnosticVMOptions \
      -XX:+LogCompilation -XX:LogFile=/tmp/jit.log -agentpath:/tmp/libcodedump.so=/tmp/code.txt \
      -cp CP dev.cmwq4j.bench.scenario.ScenarioChild tiny cmwq full 60000
  perf script -i /tmp/perf.data -F comm,tid,time,ip,sym > /tmp/samples.txt
  tiers.py /tmp/jit.log /tmp/code.txt /tmp/samples.txt cmwq4j-shared-c,java
"""
import collections
import re
import sys


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    log, dump, samples, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(',')
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    code = []  # (start, end, kind, method), in load order
    with open(log, errors='replace') as f:
        text = f.read()
    for m in re.finditer(r"<nmethod compile_id='\d+'(?: compile_kind='\w+')? compiler='\w*' level='(\d)' "
                         r"entry='[^']*' size='(\d+)' address='(0x[0-9a-f]+)'[^>]*?method='([^']*)'", text):
        start = int(m.group(3), 16)
        level = m.group(1)
        kind = 'C2' if level == '4' else ('C1-level' + level if level != '0' else 'native wrapper')
        code.append((start, start + int(m.group(2)), kind, m.group(4)))
    stubs = []
    with open(dump, errors='replace') as f:
        for line in f:
            if line.startswith('S '):
                _, address, size, name = line.rstrip('\n').split(' ', 3)
                stubs.append((int(address, 16), int(address, 16) + int(size), name))
    pattern = re.compile(r'^\s*(.+?)\s+(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s*(.*)$')
    rows = []
    with open(samples, errors='replace') as f:
        for line in f:
            m = pattern.match(line)
            if m:
                rows.append((m.group(1), float(m.group(3)), int(m.group(4), 16), m.group(5).strip()))
    first = [t for name, t, _, _ in rows if name.startswith(threads[0])]
    if not first:
        sys.exit('no samples of threads named ' + repr(threads[0]))
    start, end = min(first), max(first)
    cache = {}

    def classify(ip, sym):
        if ip not in cache:
            hit = next((c for c in reversed(code) if c[0] <= ip < c[1]), None)
            if hit:
                cache[ip] = (hit[2], hit[3])
            else:
                stub = next((s for s in stubs if s[0] <= ip < s[1]), None)
                if stub:
                    cache[ip] = ('interpreter' if stub[2] == 'Interpreter' else 'stub', stub[2])
                elif ip >= 0xffff000000000000:
                    cache[ip] = ('kernel', sym)
                else:
                    cache[ip] = ('VM or native', sym)
        return cache[ip]

    print(f'window {end - start:.3f} s (the lifetime of the threads named {threads[0]!r})')
    for thread in threads:
        kinds = collections.Counter()
        where = collections.Counter()
        n = 0
        for name, t, ip, sym in rows:
            if name.startswith(thread) and start <= t <= end:
                kind, what = classify(ip, sym)
                kinds[kind] += 1
                where[(kind, what)] += 1
                n += 1
        if n == 0:
            continue
        print(f'{thread}: {n} samples  ' + '  '.join(f'{k} {100 * v / n:.0f}%' for k, v in kinds.most_common()))
        for (kind, what), v in where.most_common(top):
            print(f'    {100 * v / n:4.1f}% {kind} {what[:100]}')


if __name__ == '__main__':
    main()
