/** The subset of configuration planners read. Built by the CLI from the validated config. */
export interface PlannerSettings {
  dryRun: boolean;
  publicUrl: string | null;
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
