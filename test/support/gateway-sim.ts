import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGatewaySimulator, type GatewaySimulator, type GatewaySimulatorOptions } from '../../src/sandbox/gateway/index.js';

export interface SimulatorWithControl {
  sim: GatewaySimulator;
  /** the control API's base URL (the routes the sandbox mounts: PUT /sessions/{key}, …) */
  base: string;
  /** one control-API call; a string body is sent as is (to test malformed input), anything else as JSON */
  control(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** The gateway simulator plus its control routes on their own 127.0.0.1 port, as tests outside the sandbox need it. */
export async function startSimulatorWithControl(opts: GatewaySimulatorOptions = {}): Promise<SimulatorWithControl> {
  const sim = await startGatewaySimulator(opts);
  const http: Server = createServer((req, res) => {
    void sim.controlRoutes(req, res, new URL(req.url ?? '/', 'http://127.0.0.1')).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    sim,
    base,
    control: (method, path, body) =>
      fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((ok) => http.close(() => ok()));
      await sim.close();
    },
  };
}
