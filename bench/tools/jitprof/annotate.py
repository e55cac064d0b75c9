#!/usr/bin/env python3
"""Attributes perf samples of JIT-compiled code to the Java methods C2 inlined there.

Inputs: the agent's dump (codedump.c) and `perf script -F comm,tid,time,ip`. For the threads
whose name starts with THREAD (Linux's 15-character name; "" for all), over the last FRACTION of
the first such thread's lifetime (to skip the warm-up):
  - the share of samples per compiled method (each nmethod apart: a method recompiled shows twice);
  - per innermost inlined method ("leaf"), and per method anywhere in the inlined chain
    ("inclusive"), attributing each sample to the chain of the nearest recorded PC at or after it
    (the PCs the JIT records are call returns and safepoints; an approximation within a few
    instructions, and a stall is charged to the instruction after it, as perf always does);
  - with DUMP > 0, the disassembly (objdump) of the DUMP hottest methods, each instruction with its
    share and each recorded PC with its chain, to asm_<method>_<address>.txt in the working
    directory.

Usage: annotate.py CODE_DUMP SAMPLES THREAD [FRACTION [DUMP]]
"""
import bisect
import collections
import re
import subprocess
import sys


def load_dump(path):
    methods = []  # [address, size, name, hex code, [(pc, [frames])]]
    current = None
    with open(path, errors='replace') as f:
        for line in f:
            kind = line[:2]
            if kind == 'M ':
                _, address, size, name = line.rstrip('\n').split(' ', 3)
                current = [int(address, 16), int(size), name, '', []]
                methods.append(current)
            elif kind == 'B ' and current is not None:
                current[3] = line[2:].strip()
            elif kind == 'P ' and current is not None:
                parts = line.split()
                current[4].append((int(parts[1], 16), parts[2:]))
    for m in methods:
        m[4].sort()
    return methods


def load_samples(path, thread, fraction):
    rows = []
    pattern = re.compile(r'^\s*(.+?)\s+(\d+)\s+([\d.]+):\s+([0-9a-f]+)')
    with open(path, errors='replace') as f:
        for line in f:
            m = pattern.match(line)
            if m and m.group(1).startswith(thread):
                rows.append((float(m.group(3)), int(m.group(4), 16)))
    if not rows:
        sys.exit('no samples of threads named ' + repr(thread))
    start, end = min(t for t, _ in rows), max(t for t, _ in rows)
    cut = end - (end - start) * fraction
    return [ip for t, ip in rows if t >= cut]


def owner(methods, ip, cache):
    """The method whose code holds ip: the last one loaded there (code is reused after unloading)."""
    if ip not in cache:
        cache[ip] = next((m for m in reversed(methods) if m[0] <= ip < m[0] + m[1]), None)
    return cache[ip]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    methods = load_dump(sys.argv[1])
    fraction = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
    dump = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    ips = load_samples(sys.argv[2], sys.argv[3], fraction)
    cache = {}
    per_method = collections.Counter()
    per_ip = collections.Counter()
    outside = 0
    for ip in ips:
        m = owner(methods, ip, cache)
        if m is None:
            outside += 1
            continue
        per_method[id(m)] += 1
        per_ip[ip] += 1
    by_id = {id(m): m for m in methods}
    n = len(ips)
    print(f'samples {n}, outside compiled Java code (VM, kernel, stubs, interpreter) {outside}')
    for key, count in per_method.most_common(12):
        m = by_id[key]
        print(f'{100 * count / n:5.1f}% {m[2]} size={m[1]} @{m[0]:x}')
    leaf = collections.Counter()
    inclusive = collections.Counter()
    for ip, count in per_ip.items():
        m = cache[ip]
        pcs = m[4]
        if not pcs:
            continue
        j = min(bisect.bisect_left([pc for pc, _ in pcs], ip), len(pcs) - 1)
        frames = [frame.split('@')[0] for frame in pcs[j][1]]
        leaf[frames[0]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print('\n== leaf (innermost inlined method)')
    for frame, count in leaf.most_common(40):
        print(f'{100 * count / n:5.1f}% {frame}')
    print('\n== inclusive (anywhere in the inlined chain)')
    for frame, count in inclusive.most_common(40):
        print(f'{100 * count / n:5.1f}% {frame}')
    for key, _ in per_method.most_common(dump):
        m = by_id[key]
        with open('/tmp/jitprof-code.bin', 'wb') as f:
            f.write(bytes.fromhex(m[3]))
        asm = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', f'--adjust-vma={m[0]}',
                              '/tmp/jitprof-code.bin'], capture_output=True, text=True).stdout
        chains = dict(m[4])
        name = m[2].split('.')[-1]
        with open(f'asm_{name}_{m[0]:x}.txt', 'w') as out:
            for line in asm.splitlines():
                a = re.match(r'\s*([0-9a-f]+):', line)
                if not a:
                    continue
                address = int(a.group(1), 16)
                if address in chains:
                    out.write('      ; ' + ' <- '.join(chains[address][:4]) + '\n')
                out.write(f'{100 * per_ip.get(address, 0) / n:5.2f}% {line}\n')


if __name__ == '__main__':
    main()
