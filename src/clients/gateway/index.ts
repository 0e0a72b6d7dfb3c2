export type { GatewayApi, GatewayEvents, HelloInfo } from './api.js';
export { GatewayClient, gatewaySupports, DEFAULT_SCOPES, UNADVERTISED_METHODS, type GatewayClientOptions } from './client.js';
export { GatewayError, type GatewayErrorCode } from './errors.js';
