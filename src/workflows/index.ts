export { syncChargingPoints } from './sync-charging-points';
export { approveSignal, rejectSignal, statusQuery } from './definitions';
