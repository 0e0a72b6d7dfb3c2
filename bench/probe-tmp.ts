import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayDriver } from '../test/contract/driver.js';
import { startMockProvider } from '../test/contract/mock-provider.js';
import { startRealGateway } from '../test/contract/real-gateway.js';

const N = 40;
const dir = mkdtempSync(join(tmpdir(), 'probe-'));
const mock = await startMockProvider();
const gw = await startRealGateway({ workDir: join(dir, 'gw'), mockBaseUrl: mock.baseUrl });
const d = await GatewayDriver.connect(gw.url, gw.token);
const keys = Array.from({ length: N }, (_, i) => `agent:main:probe-${i}`);
await Promise.all(keys.slice(0, 4).map((k) => d.send(k, 'say hello', 120000)));
for (const k of keys.slice(4)) { await d.request('sessions.create', { key: k }, 120000); await d.request('chat.inject', { sessionKey: k, message: 'hello' }, 120000); }
await new Promise((r) => setTimeout(r, 8000));
const summary = (p: any) => ({ status: p.cacheStatus?.status, n: p.sessions?.length, nullUsage: p.sessions?.filter((s: any) => !s.usage).length, keys: p.sessions?.slice(0, 2).map((s: any) => [s.key, s.usage?.totalCost]) });
for (let i = 0; i < 4; i++) {
  const all = (await d.request('sessions.usage', { agentScope: 'all', limit: 200 }, 120000)) as any;
  console.log('all', i, JSON.stringify(summary(all)));
  const one = (await d.request('sessions.usage', { key: keys[0] }, 120000)) as any;
  const inj = (await d.request('sessions.usage', { key: keys[10] }, 120000)) as any;
  console.log('one', i, JSON.stringify(summary(one)), 'inj', JSON.stringify(summary(inj)));
  await new Promise((r) => setTimeout(r, 3000));
}
await d.close(); await gw.stop(); await mock.close();
