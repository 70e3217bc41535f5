/**
 * `spfperf plot SWEEP [-o out.svg|out.png] [--y METRIC_OR_EVENT] [--x AXIS] [--normalize CONFIG]`:
 * a sweep's results as line charts (docs/plot.md). Reads sweep.json and its points' `stat --save`
 * documents (src/plot/sweep.ts), takes the measure of each seed's run (src/plot/measure.ts),
 * builds the vega-lite spec (src/format/plot-spec.ts), draws it (src/plot/render.ts), and writes
 * the picture and, beside it, the spec with its data (out.vl.json):
 *
 *   $ spfperf plot runs/sweep.json -o pf1.png
 *   spfperf plot: wrote pf1.png (1160x736 pixels: 3 lines, 1 panel) and its vega-lite spec pf1.vl.json
 *
 * What it says goes to stderr, as `record` does; stdout stays empty.
 */
import { writeSync } from 'node:fs';
import { errnoText, UsageError } from '../errors.js';
import { buildPlotSpec, specText } from '../format/plot-spec.js';
import type { CliIo } from '../io.js';
import { resolveMeasure } from '../plot/measure.js';
import { loadSweep } from '../plot/sweep.js';
import { AtomicFile } from '../trace/ndjson-writer.js';
import { refuseClobbering } from './outputs.js';

export interface PlotOptions {
  readonly output?: string;
  readonly y?: string;
  readonly x?: string;
  readonly normalize?: string;
}

/** The default picture: plot.svg in the current directory (as record's spfperf.ndjson). */
export const DEFAULT_OUTPUT = 'plot.svg';

/** The spec's file beside the picture: out.svg -> out.vl.json. */
export function specPath(picture: string): string {
  return picture.replace(/\.(svg|png)$/i, '.vl.json');
}

/** The picture's format from its name; `option` names the option in the error (plot's -o, sweep's --plot). */
export function pictureKind(path: string, option = '-o'): 'svg' | 'png' {
  const m = /\.(svg|png)$/i.exec(path);
  if (m === null) throw new UsageError(`${option}: '${path}' must end in .svg or .png (the picture's format)`);
  return m[1].toLowerCase() as 'svg' | 'png';
}

function writeWhole(path: string, data: string | Buffer): void {
  let f: AtomicFile;
  try {
    f = new AtomicFile(path);
  } catch (e) {
    throw new UsageError(`cannot write '${path}': ${errnoText(e as NodeJS.ErrnoException)}`);
  }
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; ) off += writeSync(f.fd, buf, off, buf.length - off);
    f.commit();
  } catch (e) {
    f.discard();
    throw e;
  }
}

export async function run(sweepArg: string, opts: PlotOptions, io: CliIo): Promise<number> {
  const output = opts.output ?? DEFAULT_OUTPUT;
  const kind = pictureKind(output);
  const vlPath = specPath(output);
  const sweep = await loadSweep(sweepArg);
  // Neither the picture nor its spec may overwrite the sweep's index or a point's document.
  refuseClobbering(
    [{ what: 'the sweep index', path: sweep.file }, ...sweep.points.map((p) => ({ what: `the document of point ${p.index}`, path: p.path }))],
    [
      { what: "option '-o'", path: output },
      { what: 'the spec beside the picture', path: vlPath },
    ],
  );
  const measure = resolveMeasure(
    opts.y,
    sweep.points.flatMap((p) => p.runs),
  );
  const plot = buildPlotSpec(
    {
      workload: sweep.index.workload,
      repeats: sweep.index.repeats,
      axes: sweep.index.axes,
      points: sweep.points.map((p) => ({ coords: p.coords, values: p.runs.map((r) => ({ seed: r.seeds[0], value: measure.of(r) })) })),
      measure,
    },
    { x: opts.x, normalize: opts.normalize },
  );
  if (plot.lines === 0) throw new UsageError(`--y ${measure.key}: no point of the sweep has a value to draw`);
  const { renderSvg, renderPng, PNG_SCALE } = await import('../plot/render.js');
  const { svg, width, height, warnings } = await renderSvg(plot.spec);
  for (const w of warnings) io.stderr.write(`spfperf plot: vega: ${w}\n`);
  const picture = kind === 'svg' ? svg : await renderPng(svg);
  writeWhole(vlPath, specText(plot.spec));
  writeWhole(output, picture);
  if (plot.leftOut > 0) io.stderr.write(`spfperf plot: ${plot.leftOut} run(s) left out: no ${measure.key}${opts.normalize !== undefined ? ` or no ${opts.normalize} value to divide by` : ''} there\n`);
  const size = kind === 'svg' ? `${width}x${height}` : `${width * PNG_SCALE}x${height * PNG_SCALE} pixels`;
  io.stderr.write(`spfperf plot: wrote ${output} (${size}: ${plot.lines} line${plot.lines === 1 ? '' : 's'}, ${plot.panels} panel${plot.panels === 1 ? '' : 's'}) and its vega-lite spec ${vlPath}\n`);
  return 0;
}
