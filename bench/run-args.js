// The command line of the bench scripts that run one workload in their own process
// (per-fault.js, ab.js): the run's options as `stat` takes them, one whole-number option of the
// script's own, and the positional words. A bad option prints the script's usage and exits 2.
//
//   parseRunArgs(argv, { name, usage, count: { flag: '--top', min: 0, value: 12 } })
//   -> { opts: { machine?, config: [], cpus? }, count, rest: [...] }

/** Print `name: msg` and the usage line, and exit 2. */
export function usageError(name, usage, msg) {
  console.error(`${name}: ${msg}`);
  console.error(`usage: ${usage}`);
  process.exit(2);
}

export function parseRunArgs(argv, { name, usage, count }) {
  const fail = (msg) => usageError(name, usage, msg);
  const opts = { config: [] };
  let n = count.value;
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    if (a === '--machine') opts.machine = value();
    else if (a === '--config') opts.config.push(value());
    else if (a === '--cpus') opts.cpus = value();
    else if (a === count.flag) {
      n = Number(value());
      if (!Number.isInteger(n) || n < count.min) fail(`${count.flag}: expected a whole number >= ${count.min}`);
    } else if (a.startsWith('-')) fail(`unknown option '${a}'`);
    else rest.push(a);
  }
  return { opts, count: n, rest };
}
