#!/usr/bin/env node
// CommonJS (bin/package.json): it requires dist/spfperf.cjs, the start-up bundle of
// scripts/bundle-cli.mjs, which loads the rest of dist/ with require() (ES modules, Node >= 20.19)
// and import(). An ES-module launcher, or import() here, would start Node's asynchronous module
// loader; it and the ~15 files a start-up loaded before cost `spfperf list` some 25 ms
// (docs/performance.md, Start-up). A Node without require() of ES modules (22.0-22.11) runs
// dist/main.js as it was.
if (process.features.require_module) require('../dist/spfperf.cjs');
else import('../dist/main.js');
