import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { EffectRefusedError, EffectsDoor } from './door.js';
import { JsonStateFile } from '../../clients/state/index.js';

/** A board client that records every call it receives (what passes the door). */
function recordingBoard(calls: string[]): MissionControlApi {
  const stats = { requests: 0, writes: 0 };
  return new Proxy({ stats } as unknown as MissionControlApi, {
    get(target, prop) {
      if (prop === 'stats') return stats;
      if (prop === 'then') return undefined;
      return async () => {
        calls.push(String(prop));
        return { items: [], rejected: [], requests: 1 };
      };
    },
  }) as MissionControlApi & typeof Reflect;
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('EffectsDoor', () => {
  it('a closed door refuses every Mission Control write (and any method it does not know as a read), lets reads through', async () => {
    const calls: string[] = [];
    const mc = EffectsDoor.closed('dry-run').missionControl(recordingBoard(calls));
    await mc.listTasks('b');
    await mc.listComments('b', 't');
    await expect(mc.updateTask('b', 't', { status: 'done' })).rejects.toBeInstanceOf(EffectRefusedError);
    await expect(mc.createTask('b', { title: 'x' })).rejects.toThrow(/createTask refused: dry-run writes nothing/);
    await expect(mc.createComment('b', 't', 'hi')).rejects.toBeInstanceOf(EffectRefusedError);
    await expect(mc.createFieldDefinition({ fieldKey: 'k', fieldType: 'text', boardIds: [] })).rejects.toBeInstanceOf(EffectRefusedError);
    await expect(mc.updateFieldDefinition('id', { required: false })).rejects.toBeInstanceOf(EffectRefusedError);
    await expect(mc.createApproval('b', { actionType: 'x', confidence: 1 })).rejects.toBeInstanceOf(EffectRefusedError);
    await expect(mc.updateApproval('b', 'a', 'approved')).rejects.toBeInstanceOf(EffectRefusedError);
    await expect((mc as unknown as { deleteTask(): Promise<void> }).deleteTask()).rejects.toBeInstanceOf(EffectRefusedError);
    expect(calls).toEqual(['listTasks', 'listComments']);
    expect(mc.stats).toEqual({ requests: 0, writes: 0 });
  });

  it('a standby door opens while leading and shuts again when leadership is lost', async () => {
    let leading = false;
    const calls: string[] = [];
    const door = EffectsDoor.whileLeading(() => leading);
    const mc = door.missionControl(recordingBoard(calls));
    await expect(mc.updateTask('b', 't', {})).rejects.toMatchObject({ reason: 'standby' });
    leading = true;
    await mc.updateTask('b', 't', {});
    leading = false;
    await expect(mc.updateTask('b', 't', {})).rejects.toMatchObject({ reason: 'standby' });
    expect(calls).toEqual(['updateTask']);
    expect(door.refused).toBe(2);
  });

  it('state files, signals and scale writes are refused too; an open door writes atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-door-'));
    dirs.push(dir);
    const closed = EffectsDoor.closed('plan');
    expect(() => closed.stateFile(new JsonStateFile(join(dir, 'state.json'))).write({})).toThrow(EffectRefusedError);
    expect(() => closed.signal(process.pid, 'SIGTERM')).toThrow(EffectRefusedError);
    const scaled: string[] = [];
    const scaler = closed.scaler({
      scaleDown: async (ref) => (scaled.push(ref.name), { changed: true, from: 1, to: 0 }) as never,
      restore: async (ref) => (scaled.push(ref.name), { original: 1, from: 0, to: 1 }) as never,
    });
    await expect(scaler.scaleDown({ kind: 'Deployment', namespace: 'n', name: 'w' }, 0)).rejects.toBeInstanceOf(EffectRefusedError);
    await expect(scaler.restore({ kind: 'Deployment', namespace: 'n', name: 'w' })).rejects.toBeInstanceOf(EffectRefusedError);
    expect(scaled).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);

    EffectsDoor.open().stateFile(new JsonStateFile(join(dir, 'sub', 'state.json'))).write({ a: 1 });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']);
  });
});
