/**
 * spfperf's own limits on what it is given: not model figures (those are in ./constants.ts) but
 * bounds that keep a mistyped value from growing memory until the heap dies. Each is named in
 * the error that enforces it, and listed in docs/model.md ("Limits").
 */

/**
 * Tasks (threads and processes) a run may create, in all: the kernel's default pid_max,
 * PID_MAX_DEFAULT = 0x8000 (include/linux/threads.h, Linux 6.18), the most pids a default system
 * hands out at once. The model keeps every task it created until the run ends (their counts are
 * reported per thread), so this bounds the whole run, not only the tasks alive at one time.
 * kernbench with --arch x86 --cpus 1024, the largest shipped run, creates about 26,000.
 */
export const MAX_TASKS = 0x8000;

/**
 * Counts `stat -I` may keep until the run ends (intervals x events, x threads with --per-thread):
 * they wait in a temporary file, 8 bytes each (src/commands/stat-spool.ts), not in memory, so
 * this bounds disk space: 1 GiB at the limit, for an output of some 10-15 GiB of text. (Until the
 * intervals were spooled, 2^22 counts in memory: `-I 1 --per-thread` over 20,000 threads used to
 * reach 4.6 GB.)
 */
export const MAX_INTERVAL_COUNTS = 1 << 27;

/** Bytes of a workload script: the largest shipped one is under 10 KiB. */
export const MAX_SCRIPT_BYTES = 1 << 20;

/** The most CPUs a run may have (--cpus, a reshaped machine's, a machine file's): docs/model.md, Limits. */
export const MAX_CPUS = 1024;

/** Bytes of a machine file (--machine FILE): a described 2-socket server is about 5 KiB. */
export const MAX_MACHINE_FILE_BYTES = 1 << 20;
