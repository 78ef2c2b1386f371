export { syncChargingPoints } from './sync-charging-points';
export { activityRetryingSignal, approveSignal, rejectSignal, statusQuery } from './definitions';
