import type { ArchProfile } from '../../config/arch.js';
import type { KernelConfig } from '../../config/kconfig.js';
import type { Engine } from '../../engine/engine.js';
import { DESIGN_MODULES } from './designs.gen.js';
import { completeHooks, type DesignDescriptor, type SpfStrategy } from './registry.js';

/**
 * The design registry: every page-fault design, found through the generated list of design files
 * (scripts/gen-designs.mjs) and ordered by when it was posted or merged (the classic kernel first).
 */
export const DESIGNS: readonly DesignDescriptor[] = [...DESIGN_MODULES].sort((a, b) =>
  a.since < b.since ? -1 : a.since > b.since ? 1 : a.name < b.name ? -1 : 1,
);

const byName = new Map(DESIGNS.map((d) => [d.name, d]));

/** The design called `name` (the `design` config key's value), or undefined. */
export function designNamed(name: string): DesignDescriptor | undefined {
  return byName.get(name);
}

/** The page-fault design a kernel config selects, built for one run's engine. */
export function strategyFor(config: KernelConfig, arch: ArchProfile): (eng: Engine) => SpfStrategy {
  const d = designNamed(config.design);
  if (d === undefined) throw new Error(`strategyFor: no design '${config.design}'`);
  return (eng) => completeHooks(d.create({ eng, settings: config.designSettings, costs: arch.costs, rwsem: config.rwsem }));
}
