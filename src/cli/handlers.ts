import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Handlers } from '../runtime/executor.js';

/** Effect handlers for the peers that are configured; an action whose peer is missing fails with a clear detail. */
export function handlersFor(_config: Config, _logger: Logger): Handlers {
  return {};
}
