import { JsonStateFile } from '../../clients/state/index.js';
import type { StateWriteAction } from '../../model/index.js';
import type { EffectsDoor } from './door.js';
import type { EffectHandler } from './types.js';

/** Through the effects door (a dry run writes none), atomic and fsynced by the state client, so a reader never sees half a file. */
export function writeKitResourceState(door: Pick<EffectsDoor, 'stateFile'>, path: string, resource: Record<string, unknown>): void {
  door.stateFile(new JsonStateFile(path)).write(resource);
}

/**
 * The second half of a `state.write` (the executor merges the patch into the global state first): a patch that
 * sets `resource` is mirrored to the kit's resource state file (`MC_RESOURCE_STATE_FILE`, legacy-kit.md §12) for
 * readers that still look there. That file is a courtesy copy: a failure is logged, not retried.
 */
export function makeKitResourceMirror(opts: { door: Pick<EffectsDoor, 'stateFile'>; path: string }): EffectHandler<StateWriteAction> {
  return async (action, ctx) => {
    const resource = action.patch['resource'];
    if (typeof resource !== 'object' || resource === null) return { outcome: 'applied' };
    try {
      writeKitResourceState(opts.door, opts.path, resource as Record<string, unknown>);
      return { outcome: 'applied' };
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message, stateFile: opts.path }, 'could not write the kit resource state file');
      return { outcome: 'applied', detail: `kit resource state file not written: ${(err as Error).message}` };
    }
  };
}
