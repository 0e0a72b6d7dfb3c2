/** Gateway checks: handshake (protocol, granted scopes) and one `sessions.list`, read-only. */
import type { Config } from '../../config/index.js';
import { GatewayError } from '../../clients/gateway/errors.js';
import { gatewayClient } from '../gateway.js';
import { errorText, fail, pass, skip, warn, type CheckResult } from './check.js';

function connectHint(err: unknown): string {
  if (err instanceof GatewayError) {
    if (err.detailCode === 'AUTH_TOKEN_MISMATCH' || err.detailCode === 'AUTH_TOKEN_MISSING')
      return 'the gateway refused the token: set MC_GATEWAY_TOKEN to the gateway\'s gateway.auth.token';
    if (err.detailCode === 'PAIRING_REQUIRED' || err.code === 'NOT_PAIRED')
      return 'the gateway wants a paired device: run the controller on the gateway host (loopback) or approve the device with `openclaw devices approve`';
    if (err.detailCode === 'PROTOCOL_MISMATCH') return 'the gateway speaks another protocol version: use openclaw ≥ 2026.9 (protocol 3..4)';
    if (err.code === 'TIMEOUT') return 'no handshake answer: check MC_GATEWAY_URL points at the gateway WebSocket port';
  }
  return 'check MC_GATEWAY_URL (e.g. ws://127.0.0.1:18789) and that the gateway is running';
}

export async function gatewayChecks(config: Config): Promise<CheckResult[]> {
  if (!config.gateway.url || !config.gateway.token)
    return [skip('gateway', 'not configured (MC_GATEWAY_URL unset): session checks are off'), skip('gateway sessions', 'no gateway')];
  const client = gatewayClient(config, { reconnect: false, maxStartupRetries: 0 });
  const results: CheckResult[] = [];
  try {
    const hello = await client.connect().catch((err: unknown) => err as Error);
    if (hello instanceof Error)
      return [fail('gateway', `${config.gateway.url}: ${errorText(hello)}`, connectHint(hello)), skip('gateway sessions', 'needs the gateway')];
    const scopes = hello.scopes;
    const detail = `${config.gateway.url} protocol ${hello.protocol}${hello.serverVersion ? `, openclaw ${hello.serverVersion}` : ''}, scopes ${scopes.length > 0 ? scopes.join(', ') : '(none)'}`;
    if (!scopes.includes('operator.read') && !scopes.includes('operator.admin'))
      results.push(
        fail(
          'gateway',
          detail,
          'no read scope was granted: without a device identity the gateway keeps scopes only for loopback backend clients; run the controller on the gateway host or pair a device',
        ),
      );
    else if (!scopes.includes('operator.admin'))
      results.push(
        warn(
          'gateway',
          detail,
          'operator.admin is missing: exec approvals stay invisible, so approval waits are not detected (add operator.admin to MC_GATEWAY_SCOPES)',
        ),
      );
    else results.push(pass('gateway', detail));

    try {
      const { sessions, rejected } = await client.listSessions();
      const skipped = rejected.length > 0 ? `, ${rejected.length} malformed row(s) skipped` : '';
      results.push(pass('gateway sessions', `sessions.list answered: ${sessions.length} session(s)${skipped}`));
    } catch (err) {
      results.push(fail('gateway sessions', errorText(err), 'the granted scopes must allow sessions.list (operator.read)'));
    }
    return results;
  } finally {
    await client.close();
  }
}
