import type { MessageLocale } from './messages.js';

/** The subset of configuration planners read. Built by the CLI from the validated config. */
export interface PlannerSettings {
  dryRun: boolean;
  publicUrl: string | null;
  /** language of Discord messages (MC_MESSAGE_LOCALE) */
  locale: MessageLocale;
  watchdog: {
    stalledMinutes: number;
    maxRetries: number;
    missingKeyGraceMinutes: number;
    scope: 'linked' | 'all';
    sessionMissingGraceSeconds: number;
    retryIntervalSeconds: number;
    doneOnSessionEnd: boolean;
  };
  delivery: {
    backlog: 'skip' | 'deliver';
    maxPerPass: number;
  };
  [concern: string]: unknown;
}

export const defaultPlannerSettings = (): PlannerSettings => ({
  dryRun: false,
  publicUrl: null,
  locale: 'pt-BR',
  watchdog: {
    stalledMinutes: 60,
    maxRetries: 2,
    missingKeyGraceMinutes: 10,
    scope: 'linked',
    sessionMissingGraceSeconds: 120,
    retryIntervalSeconds: 300,
    doneOnSessionEnd: false,
  },
  delivery: { backlog: 'skip', maxPerPass: 50 },
});
