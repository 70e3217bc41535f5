/** Before any test file loads: list the design files (src/mm/spf/designs.gen.ts) as the build does. */
export default async function setup(): Promise<void> {
  // @ts-expect-error a plain .mjs script without types
  await import('../scripts/gen-designs.mjs');
}
