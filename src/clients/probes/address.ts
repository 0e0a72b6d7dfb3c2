export interface ListenAddress {
  host: string;
  port: number;
}

/** `host:port` or `[v6]:port`; port 0 asks the OS for a free one (tests). */
export function parseListenAddress(value: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`invalid listen address ${JSON.stringify(value)}: expected host:port, e.g. 127.0.0.1:8081`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}
