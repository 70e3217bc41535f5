/**
 * The values an option takes, as `--help` lists them. Plain names here, so that building the
 * command table loads no registry (arch profiles, machines and kernel configs load only when a
 * command runs: `spfperf list` stays fast); test/cli-values.test.ts checks every list against its
 * registry, so a new arch, machine, preset or field that is not listed fails the tests.
 */

/** --arch (src/config/arch.ts ARCH_NAMES). */
export const ARCH_VALUES: readonly string[] = ['x86', 'powerpc', 'arm64'];

/** --machine (src/config/machine.ts MACHINES, the files of machines/, then host). */
export const MACHINE_VALUES: readonly string[] = ['x86-pvm2', 'x86-vm16', 'x86-2s8c', 'x86-16', 'e5-2690v3', 'skl-2s112', 'skl-4s192', 'spr-2s224', 'rome-2s256', 'genoa-2s384', 'arm64-vm', 'msm845', 'graviton3-64', 'p8-80', 'p9-2s160', 'p8-176', 'host'];

/** --config NAME: the presets and their aliases (src/config/kconfig.ts listConfigPresets()). */
export const CONFIG_PRESET_VALUES: readonly string[] = ['base', 'kamezawa', 'kamezawa-fixed', 'dufour-v9', 'dufour-v11', 'spf', 'dufour-srcu', 'lespinasse', 'per-vma-lock'];

/** script -F (src/format/script.ts SCRIPT_FIELDS). */
export const SCRIPT_FIELD_VALUES: readonly string[] = ['comm', 'tid', 'pid', 'cpu', 'time', 'period', 'event', 'trace', 'ip', 'sym'];

/** report -s (src/format/report-keys.ts SORT_KEYS), and its default (DEFAULT_SORT, perf's own). */
export const REPORT_SORT_VALUES: readonly string[] = ['comm', 'dso', 'sym', 'pid', 'tgid', 'cpu', 'symoff', 'event', 'tid', 'caller', 'vma', 'path', 'retry', 'major'];
export const REPORT_DEFAULT_SORT = 'comm,dso,sym';

/** lock contention -k/--sort (src/format/lock-contention.ts LOCK_SORT_KEYS). */
export const LOCK_SORT_VALUES: readonly string[] = ['contended', 'wait_total', 'wait_max', 'wait_min', 'avg_wait'];
