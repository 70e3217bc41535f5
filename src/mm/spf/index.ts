import type { Engine } from '../../engine/engine.js';
import type { ArchProfile } from '../../config/arch.js';
import type { KernelConfig } from '../../config/kconfig.js';
import { ClassicStrategy, type SpfStrategy } from './strategy.js';
import { DufourStrategy } from './dufour.js';
import { LespinasseStrategy } from './lespinasse.js';
import { PerVmaLockStrategy } from './per-vma-lock.js';
import { KamezawaStrategy } from './kamezawa.js';

/** The page-fault design a kernel config selects, built for one run's engine. */
export function strategyFor(config: KernelConfig, arch: ArchProfile): (eng: Engine) => SpfStrategy {
  const c = arch.costs;
  switch (config.design) {
    case 'none':
      return () => new ClassicStrategy();
    case 'dufour':
      // call_srcu() callbacks run in a kworker: a wake-up and two context switches per batch item.
      return (eng) => new DufourStrategy(eng, config.spfVersion, c.rcuGracePeriodNs, c.wakeupNs + 2 * c.contextSwitchNs);
    case 'lespinasse':
      return (eng) => new LespinasseStrategy(eng);
    case 'per-vma-lock':
      return (eng) => new PerVmaLockStrategy(eng);
    case 'kamezawa':
      return (eng) => new KamezawaStrategy(eng, config.kamezawaFixed);
  }
}
