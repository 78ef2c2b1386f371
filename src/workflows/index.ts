export { syncChargingPoints } from './sync-charging-points';
export { activityRetryingSignal, approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery } from './definitions';
