import { MeasurementRun, type RunContext as MeasurementContext } from '../run/measurement-run.js';
import type { BandwidthResult, BandwidthSample } from './result.js';

export type RunContext = MeasurementContext<BandwidthSample>;

/**
 * A bandwidth run in progress (lib/run/measurement-run.ts: the same shape as a LatencyRun):
 * await it for the result; 'sample' events and `samples()` carry a BandwidthSample per rail
 * and interval; `stop()` ends it early and it still resolves with what was measured.
 */
export class BandwidthRun extends MeasurementRun<BandwidthResult, BandwidthSample> {}
