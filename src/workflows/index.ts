export { syncChargingPoints } from './sync-charging-points';
export { activityRetryingSignal, approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery } from './definitions';
export { watchChargingPoints } from './watch';
export { stopWatchSignal, stopWatchUpdate, watchStatusQuery } from './watch-definitions';
