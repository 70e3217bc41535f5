import { ConfigError } from '../errors.js';

/**
 * Kernel configs: `.config`-style settings resolved from --config arguments (a preset name, a
 * file, or KEY=VALUE; later wins). This first slice knows the classic kernel only; the
 * speculative designs register their presets here as they land.
 */
export interface KernelConfig {
  /** Preset names and KEY=VALUE items as given, in order. */
  readonly sources: readonly string[];
  /** The speculative design: 'none' is the classic mmap-lock path only. */
  readonly design: 'none';
  /** Every resolved setting, for --save and headers. */
  readonly settings: Readonly<Record<string, string>>;
}

const PRESETS: Readonly<Record<string, { readonly description: string; readonly settings: Readonly<Record<string, string>> }>> = {
  base: {
    description: 'classic page faults only: every fault takes the mmap lock for reading',
    settings: { CONFIG_SPECULATIVE_PAGE_FAULT: 'n', CONFIG_PER_VMA_LOCK: 'n', design: 'none' },
  },
};

export function listConfigPresets(): { name: string; description: string }[] {
  return Object.entries(PRESETS).map(([name, p]) => ({ name, description: p.description }));
}

export function resolveConfig(items: readonly string[]): KernelConfig {
  const settings: Record<string, string> = { ...PRESETS.base.settings };
  for (const item of items) {
    const p = PRESETS[item];
    if (p !== undefined) {
      Object.assign(settings, p.settings);
      continue;
    }
    throw new ConfigError(`--config '${item}': unknown kernel config (known presets: ${Object.keys(PRESETS).join(', ')})`);
  }
  return { sources: [...items], design: 'none', settings };
}
