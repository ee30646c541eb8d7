// The end-to-end suite on two guests joined by a wire (issue 14): server on node0, client here on
// node1, rail r cabled to rail r. One vitest file, so that the cases run in this order and the
// last one may take node0's power away; each cases file holds one part of the issue.
import { beforeAll, expect } from 'vitest';
import { NODE0, NODE1 } from './remote.js';
import './cases/basics.js';
import './cases/bandwidth.js';
import './cases/latency.js';
import './cases/perftest.js'; // before any fault and before the power cut
import './cases/faults.js';
import './cases/mesh.js';
import './cases/power.js'; // last: node0 is gone after it

beforeAll(() => {
  // Fails, never skips: this suite means nothing outside the two-guest wire.
  expect(process.env['SPARK_RDMA_VM_NODE'], 'run the wire suite with `npm run test:wire` (two guests)').toBe('1');
  expect(process.env['SPARK_RDMA_TEST_RAIL_IPS']).toBe(`${NODE1.rail0},${NODE1.rail1}`);
  expect(NODE0.rail0).toBe('10.77.0.1');
});
