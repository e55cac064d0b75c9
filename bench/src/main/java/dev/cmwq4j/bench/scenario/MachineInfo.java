package dev.cmwq4j.bench.scenario;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Facts about the machine and JVM for the report header. */
record MachineInfo(String date, int nproc, String os, String cpuModel, String memory, String java,
        String javaHome, String javaBinary, String git) {

    static MachineInfo collect(String javaBinary, Path repoDir) {
        Runtime.Version v = Runtime.version();
        String java = v + " (" + System.getProperty("java.vendor", "?") + ", "
                + System.getProperty("java.vm.name", "?") + ")";
        return new MachineInfo(
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"),
                firstValue(Path.of("/proc/cpuinfo"), "model name"),
                readMemory(),
                java,
                System.getProperty("java.home"),
                javaBinary,
                readGit(repoDir));
    }

    /** The 1, 5 and 15 minute load averages, or "?" (the machine may be shared). */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return l < 0 ? "?" : String.format("%.2f", l);
        }
    }

    private static String readMemory() {
        String total = firstValue(Path.of("/proc/meminfo"), "MemTotal");
        if (total.endsWith(" kB")) {
            try {
                long kb = Long.parseLong(total.substring(0, total.length() - 3).trim());
                return String.format("%.1f GiB", kb / 1024.0 / 1024.0);
            } catch (NumberFormatException e) {
                return total;
            }
        }
        return total;
    }

    private static String firstValue(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return "?";
    }

    private static String readGit(Path repoDir) {
        String head = run(repoDir, "git", "rev-parse", "--short", "HEAD");
        if (head.isEmpty()) {
            return "?";
        }
        String dirty = run(repoDir, "git", "status", "--porcelain", "--untracked-files=no");
        return head + (dirty.isEmpty() ? "" : " (with uncommitted changes)");
    }

    private static String run(Path dir, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return "";
            }
            return new String(out, StandardCharsets.UTF_8).trim();
        } catch (IOException | InterruptedException | RuntimeException e) {
            return "";
        }
    }

    List<String> headerLines() {
        return List.of(
                "- date: " + date,
                "- machine: " + nproc + " CPUs (availableProcessors), " + cpuModel + ", " + memory + " RAM, " + os,
                "- JDK: " + java + ", " + javaHome,
                "- git: " + git);
    }
}
