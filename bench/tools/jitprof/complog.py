#!/usr/bin/env python3
"""Summarizes what the JIT compiled, from one or more `-XX:+LogCompilation` files.

For each file, per tier (C1 = levels 1-3, C2 = level 4) and per group of methods (cmwq4j's engine,
`java.util.concurrent`, the rest of the JDK, the benchmark's own code): how many compiles, and
their bytecode, counting what each compile inlined (`inlined_bytes`), which is what the compiler
had to parse. Then, over all the files, the largest C2 compiles of cmwq4j's methods, the
recompilations (a method compiled again at the same level and OSR entry) and the uncommon traps
hit in compiled cmwq4j code (the branches first taken after the compile, which send the method
back to the interpreter). Compile durations are not shown: the log's stamps are wall time, and on
a busy two-CPU machine a compiler thread waits for a CPU inside its tasks.

Usage: complog.py LOG...

    java -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=/tmp/cell.log \\
        -cp <classpath> dev.cmwq4j.bench.scenario.ScenarioChild many-subsystems cmwq full 30000
    python3 bench/tools/jitprof/complog.py /tmp/cell.log
"""
import collections
import re
import sys

ATTR = re.compile(r"(\w+)='([^']*)'")
TASK = re.compile(r"<task (?P<a>[^>]*)>(?P<body>.*?)<task_done (?P<d>[^>]*)/>", re.S)
TRAP = re.compile(r"<uncommon_trap (?P<a>[^>]*?)/?>\s*(?:<jvms (?P<j>[^>]*)/>)?")


def attrs(text):
    return dict(ATTR.findall(text or ''))


def group(method):
    if method.startswith('dev.cmwq4j.bench'):
        return 'bench'
    if method.startswith('dev.cmwq4j'):
        return 'cmwq4j'
    if method.startswith('java.util.concurrent'):
        return 'juc'
    return 'jdk'


def short(method):
    # "dev.cmwq4j.internal.Worker process (Ldev/...;)V" -> "internal.Worker::process"
    parts = method.split()
    name = parts[0].replace('dev.cmwq4j.', '')
    return name + '::' + (parts[1] if len(parts) > 1 else '?')


def main(paths):
    largest = []
    recompiled = collections.Counter()
    traps = collections.Counter()
    for path in paths:
        with open(path, errors='replace') as f:
            text = f.read()
        per = collections.defaultdict(lambda: [0, 0])
        seen = collections.Counter()
        methods = {}
        for m in TASK.finditer(text):
            a, d = attrs(m.group('a')), attrs(m.group('d'))
            method = a.get('method', '?')
            methods[a.get('compile_id')] = method
            tier = 'C2' if a.get('level', '4') == '4' else 'C1'
            size = int(a.get('bytes', 0)) + int(d.get('inlined_bytes') or 0)
            entry = per[(tier, group(method))]
            entry[0] += 1
            entry[1] += size
            level = a.get('level', '4')
            key = (method, level, a.get('osr_bci'))
            if seen[key]:
                recompiled[(short(method), 'level ' + level)] += 1
            seen[key] += 1
            if tier == 'C2' and group(method) == 'cmwq4j':
                largest.append((size, short(method), path))
        for m in TRAP.finditer(text):
            a, j = attrs(m.group('a')), attrs(m.group('j'))
            method = methods.get(a.get('compile_id'))
            if 'thread' not in a or method is None or group(method) != 'cmwq4j':
                continue
            traps[(short(method), a.get('reason'), short(j.get('method', '?')), j.get('bci'))] += 1
        print(path)
        for tier in ('C1', 'C2'):
            cells = ['%s %d compiles %d B' % (g, per[(tier, g)][0], per[(tier, g)][1])
                     for g in ('cmwq4j', 'juc', 'jdk', 'bench') if per[(tier, g)][0]]
            print('  %s: %s' % (tier, '; '.join(cells)))
    print('largest C2 compiles of cmwq4j methods (bytecode with what they inlined):')
    for size, method, path in sorted(largest, reverse=True)[:15]:
        print('  %6d B  %s  (%s)' % (size, method, path))
    print('recompilations (how many times again, level, method), over all files:')
    for (method, level), n in recompiled.most_common(15):
        print('  %3d  %s %s' % (n, level, method))
    print('uncommon traps in compiled cmwq4j code (compiled method, reason, where), over all files:')
    for (method, reason, where, bci), n in traps.most_common(15):
        print('  %3d  %s  %s at %s@%s' % (n, method, reason, where, bci))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
