import type { GlobalReconciler } from '../../src/model/index.js';
import { DEGRADE_KEY, DEGRADE_RECONCILER, planDegrade } from './plan.js';

export { planDegrade, DEGRADE_KEY, DEGRADE_RECONCILER } from './plan.js';
export { degradeInputSchema, resourceStateSchema, type DegradeInput, type ResourceState } from './input.js';
export {
  degradePlannerSettingsSchema,
  readDegradePlannerSettings,
  parseKillAllowlist,
  degradePlannerSettingsFromConfig,
  type DegradePlannerConfigFields,
  type DegradePlannerSettings,
} from './settings.js';
export { compileAllowlist } from './allowlist.js';

export const degradeReconciler: GlobalReconciler = {
  scope: 'global',
  name: DEGRADE_RECONCILER,
  key: DEGRADE_KEY,
  plan: planDegrade,
};
