import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { defaultStateDir } from './state-dir.js';

describe('default state dir', () => {
  it('is systemd\'s StateDirectory when set, whoever runs it', () => {
    expect(defaultStateDir({ STATE_DIRECTORY: '/var/lib/mc-controller:/var/lib/other' }, 1000)).toBe('/var/lib/mc-controller');
    expect(defaultStateDir({ STATE_DIRECTORY: '/srv/state' }, 0)).toBe('/srv/state');
  });

  it('is /var/lib/mc-controller as root, else the XDG state home', () => {
    expect(defaultStateDir({}, 0)).toBe('/var/lib/mc-controller');
    expect(defaultStateDir({ XDG_STATE_HOME: '/home/op/.state', HOME: '/home/op' }, 1000)).toBe('/home/op/.state/mc-controller');
    expect(defaultStateDir({ HOME: '/home/op' }, 1000)).toBe('/home/op/.local/state/mc-controller');
    // a relative XDG value is invalid per the spec and ignored
    expect(defaultStateDir({ XDG_STATE_HOME: 'state', HOME: '/home/op' }, 1000)).toBe('/home/op/.local/state/mc-controller');
  });

  it('loadConfig never yields a relative state dir: the default is absolute, an explicit relative one is resolved', () => {
    const fromA = loadConfig({ env: { HOME: '/home/op', STATE_DIRECTORY: '/var/lib/mc-controller' }, cwd: '/tmp/a' });
    const fromB = loadConfig({ env: { HOME: '/home/op', STATE_DIRECTORY: '/var/lib/mc-controller' }, cwd: '/tmp/b' });
    expect(fromA.config.loop.stateDir).toBe('/var/lib/mc-controller');
    expect(fromB.config.loop.stateDir).toBe(fromA.config.loop.stateDir);
    expect(loadConfig({ env: { MC_STATE_DIR: 'here/state' }, cwd: '/tmp/a' }).config.loop.stateDir).toBe('/tmp/a/here/state');
  });
});
