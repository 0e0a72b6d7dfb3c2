export { parseListenAddress, type ListenAddress } from './address.js';
export { serve, type RunningServer } from './serve.js';
export { startProbeServer, DEFAULT_PROBE_ADDR, type ProbeServerOptions, type ReadinessCheck, type ReadinessReport } from './probes.js';
export { startMetricsServer, DEFAULT_METRICS_ADDR } from './metrics-server.js';
