import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { JsonStateFile, type StateFile } from '../clients/state/index.js';
import { parseLedger, pruneLedger, type GlobalState, type LedgerEntry } from '../model/index.js';
import type { EffectsDoor } from './effects/door.js';

interface StoredState extends GlobalState {
  ledger: Record<string, LedgerEntry>;
}

/**
 * Entries kept in the global ledger (task-less notices and their follow-ups, across boards); the oldest go
 * first, like a task's ledger. Losing an old entry costs one channel search, not a duplicate (docs/discord.md).
 */
export const GLOBAL_LEDGER_LIMIT = 500;

/** Any JSON object; its parts are read one by one so one bad part never costs the others. */
const storedSchema = z.looseObject({});

const empty = (): StoredState => ({ degraded: false, firstRunAt: {}, ledger: {} });

/**
 * Controller state that belongs to no task: first-run times per board, the ledger of task-less notices,
 * degrade bookkeeping. One JSON file (`<stateDir>/state.json`) through the state client: atomic and fsynced
 * writes, a corrupt file logged and kept aside, never silently reset. It is a cache, not the record: the
 * board and the Discord channel are (docs/discord.md), so a lost or fresh state folder re-posts nothing.
 */
export class GlobalStateFile {
  private state: StoredState;
  private readonly file: StateFile;

  /** Writes go through `door`, so `plan`, dry-run and standbys never touch the file. */
  constructor(stateDir: string, door: Pick<EffectsDoor, 'stateFile'>, opts: { logger?: Logger | undefined; file?: StateFile } = {}) {
    this.file = door.stateFile(opts.file ?? new JsonStateFile(join(stateDir, 'state.json'), { logger: opts.logger }));
    this.state = GlobalStateFile.load(this.file, opts.logger);
  }

  get path(): string {
    return this.file.path;
  }

  private static load(file: StateFile, logger: Logger | undefined): StoredState {
    const read = file.read(storedSchema);
    if (read.kind !== 'ok') return empty();
    const raw = read.value;
    const { ledger, dropped } = parseLedger(raw['ledger']);
    if (dropped.length > 0) logger?.warn({ stateFile: file.path, dropped }, `skipped malformed state ledger entries: ${dropped.join(', ')}`);
    const firstRunAt = Object.fromEntries(
      Object.entries(typeof raw['firstRunAt'] === 'object' && raw['firstRunAt'] !== null ? raw['firstRunAt'] : {}).filter(
        (e): e is [string, number] => typeof e[1] === 'number',
      ),
    );
    return { ...raw, degraded: raw['degraded'] === true, firstRunAt, ledger };
  }

  get(): StoredState {
    return this.state;
  }

  merge(patch: Record<string, unknown>): void {
    this.state = { ...this.state, ...patch } as StoredState;
    this.flush();
  }

  setLedger(key: string, entry: LedgerEntry): void {
    this.state.ledger = pruneLedger({ ...this.state.ledger, [key]: entry }, GLOBAL_LEDGER_LIMIT);
    this.flush();
  }

  flush(): void {
    this.file.write(this.state);
  }
}
