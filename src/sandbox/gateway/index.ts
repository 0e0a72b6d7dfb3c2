/**
 * OpenClaw gateway simulator for the sandbox and tests: same protocol, shapes and rules as a real
 * openclaw 2026.9.6 gateway for the read surface mc-controller uses (see docs/gateway.md).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createControlRoutes } from './control.js';
import { ProtocolServer } from './server.js';
import { GatewayState } from './state.js';

export interface GatewaySimulatorOptions {
  host?: string;
  /** 0 / undefined = a random free port */
  port?: number;
  /** random when not given */
  token?: string;
  /** `policy.tickIntervalMs` and the tick cadence; 30 000 like the real gateway */
  tickIntervalMs?: number;
}

export interface GatewaySimulator {
  url: string;
  token: string;
  controlRoutes: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
  close(): Promise<void>;
}

export async function startGatewaySimulator(opts: GatewaySimulatorOptions = {}): Promise<GatewaySimulator> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('hex');
  const state = new GatewayState();
  const server = new ProtocolServer(state, { token, tickIntervalMs: opts.tickIntervalMs ?? 30_000, version: '2026.9.6' }, { host, port: opts.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    server.wss.once('listening', resolve);
    server.wss.once('error', reject);
  });
  const { port } = server.wss.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `ws://${urlHost}:${port}`,
    token,
    controlRoutes: createControlRoutes(state, server),
    close: () => server.close(),
  };
}
