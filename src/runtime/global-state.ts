import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GlobalState, LedgerEntry } from '../model/index.js';
import type { EffectsDoor } from './effects/door.js';

interface StoredState extends GlobalState {
  ledger: Record<string, LedgerEntry>;
}

/**
 * Controller state that belongs to no task: first-run times per board, the ledger of task-less
 * notices, degrade bookkeeping. One JSON file, written atomically (temp file + rename) through the effects
 * door, so `plan`, dry-run and standbys never touch it.
 */
export class GlobalStateFile {
  private state: StoredState;
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly door: Pick<EffectsDoor, 'writeFile'>,
  ) {
    this.path = join(stateDir, 'state.json');
    this.state = GlobalStateFile.read(this.path);
  }

  private static read(path: string): StoredState {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredState>;
      return { degraded: false, firstRunAt: {}, ...parsed, ledger: parsed.ledger ?? {} };
    } catch {
      return { degraded: false, firstRunAt: {}, ledger: {} };
    }
  }

  get(): StoredState {
    return this.state;
  }

  /** Called after every merge, e.g. to mirror degrade state into the kit's state file. */
  onMerge: ((state: StoredState, patch: Record<string, unknown>) => void) | null = null;

  merge(patch: Record<string, unknown>): void {
    this.state = { ...this.state, ...patch } as StoredState;
    this.flush();
    this.onMerge?.(this.state, patch);
  }

  setLedger(key: string, entry: LedgerEntry): void {
    this.state.ledger = { ...this.state.ledger, [key]: entry };
    this.flush();
  }

  flush(): void {
    this.door.writeFile(this.path, `${JSON.stringify(this.state, null, 2)}\n`);
  }
}
