// The command line of scripts/validate.js, parsed apart from running it (test/scripts tests it).
//   [CASE...]                       case ids to run (default: all)
//   --seeds N                       seeds 1..N for every case instead of its own count
//   --sensitivity [NAME[,NAME...]]  run the cases again with each declared constant x0.5 and x2
//                                   (default: every constant that can be perturbed)
//   --converge                      run each shortened case (its `converge` params) at twice the
//                                   size or duration and show how far each figure moves
//   --cases DIR                     the cases of DIR instead of fixtures/validation (the tests' own)
//   -j N, --jobs N                  runs at once on worker threads (default: one per core; 1: one
//                                   after another in this process); the output is the same
// `names` is the list of declared constant names (src/config/constants.ts): the argument after
// --sensitivity is taken as its list only when every name in it is declared, so that
// `--sensitivity C6` still means the case C6. Returns { seeds, only, sensitivity, converge, jobs, cases } or throws an
// Error whose message is the one to print.
export function parseValidateArgs(args, names) {
  let seeds;
  let sensitivity = null;
  let converge = false;
  let jobs;
  let cases;
  const only = [];
  const declared = new Set(names);
  const list = (s, opt) => {
    const xs = s.split(',').filter((x) => x !== '');
    const bad = xs.filter((x) => !declared.has(x));
    if (xs.length === 0 || bad.length > 0) throw new Error(`${opt}: unknown constant '${bad[0] ?? s}' (declared in src/config/constants.ts)`);
    return xs;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--seeds') {
      seeds = Number(args[++i]);
      if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds takes a whole number >= 1, not '${args[i]}'`);
    } else if (a.startsWith('--sensitivity=')) {
      sensitivity = list(a.slice('--sensitivity='.length), '--sensitivity');
    } else if (a === '--sensitivity') {
      const next = args[i + 1];
      const names = next === undefined || next.startsWith('-') ? [] : next.split(',');
      if (names.length > 0 && names.every((x) => declared.has(x))) {
        sensitivity = names;
        i++;
      } else sensitivity = [];
    } else if (a === '--converge') {
      converge = true;
    } else if (a === '--cases') {
      cases = args[++i];
      if (cases === undefined) throw new Error('--cases takes a folder of case files');
    } else if (a === '-j' || a === '--jobs') {
      const v = args[++i];
      jobs = /^\d+$/.test(v ?? '') ? Number(v) : NaN;
      if (!(jobs >= 1)) throw new Error(`${a} takes a whole number >= 1, not '${v ?? ''}'`);
    } else if (a.startsWith('-')) {
      throw new Error(`unknown option '${a}'`);
    } else only.push(a);
  }
  return { seeds, only, sensitivity, converge, jobs, cases };
}
