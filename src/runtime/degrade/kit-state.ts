import { z } from 'zod';
import { JsonStateFile } from '../../clients/state/index.js';
import type { DegradeMode } from './hysteresis.js';

/**
 * The kit's resource state file (`MC_RESOURCE_STATE_FILE`, legacy-kit.md §12): flat JSON with `mode`,
 * `entered_at_ms`, … The planner keeps the same fields under `global.resource`; the `state.write` handler
 * (effects/kit-resource-state.ts) mirrors them to the kit's path for readers that still look there (the old spawn
 * wrapper); this reads the mode back at start-up.
 */

const kitStateSchema = z.looseObject({
  mode: z.enum(['normal', 'degrade']),
  entered_at_ms: z.number().nullish(),
});

/** The mode to resume (for DegradeMonitor `restored`); null when the file is missing, foreign or says normal. */
export async function readKitResourceState(path: string): Promise<{ mode: DegradeMode; since: number } | null> {
  let read;
  try {
    read = new JsonStateFile(path).read(kitStateSchema);
  } catch {
    return null;
  }
  if (read.kind !== 'ok' || read.value.mode !== 'degrade' || typeof read.value.entered_at_ms !== 'number') return null;
  return { mode: 'degrade', since: read.value.entered_at_ms };
}
