import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { GatewayClient, type GatewayClientOptions } from '../clients/gateway/index.js';
import { GatewaySource } from '../runtime/gateway-source.js';
import { VERSION } from './version.js';

export interface GatewayHooks {
  sessionChanged?(sessionKey: string): void;
  restarted?(): void;
}

/** The configured gateway client (url, token, timeout, scopes); callers add events and reconnect policy. */
export function gatewayClient(
  config: Config,
  opts: Omit<GatewayClientOptions, 'url' | 'token' | 'clientVersion' | 'requestTimeoutMs' | 'scopes'>,
): GatewayClient {
  if (!config.gateway.url || !config.gateway.token) throw new Error('gateway is not configured (MC_GATEWAY_URL, MC_GATEWAY_TOKEN)');
  return new GatewayClient({
    url: config.gateway.url,
    token: config.gateway.token,
    clientVersion: VERSION,
    requestTimeoutMs: config.gateway.requestTimeoutMs,
    scopes: config.gateway.scopes,
    ...opts,
  });
}

/** The gateway client and its loop-side cache, or null when no gateway is configured. */
export function gatewaySource(config: Config, logger: Logger, hooks: GatewayHooks = {}, reconnect = true): GatewaySource | null {
  if (!config.gateway.url || !config.gateway.token) return null;
  let source: GatewaySource | null = null;
  const client = gatewayClient(config, {
    logger,
    reconnect,
    // `once` and `plan` (no reconnect) read one list and leave: a subscription would only cost a call
    subscribe: reconnect,
    events: {
      onSessionChanged: (key, row) => {
        if (row) source?.upsert(row);
        hooks.sessionChanged?.(key);
      },
      onHello: (hello, bootChanged) => {
        source?.onHello(hello);
        if (bootChanged) hooks.restarted?.();
      },
      onDisconnect: () => source?.markUnreachable(),
    },
  });
  source = new GatewaySource(client, logger);
  return source;
}
