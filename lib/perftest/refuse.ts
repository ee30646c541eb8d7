// What a run against a perftest peer cannot honour, refused up front with the reason: perftest
// speaks one size per connection, brings QPs up over TCP only in the exchange we speak, and
// its bidirectional mode is another sequence of messages.
import { invalidArgument } from '../errors.js';

export interface PerftestRunFlags {
  cm: boolean;
  bidir?: boolean;
  sizes: number[];
  /** Latency only: a duration run. */
  durationMs?: number | undefined;
}

export function refusePerftestFlags(test: 'bw' | 'lat', f: PerftestRunFlags): void {
  if (f.cm) {
    throw invalidArgument(
      '--cm cannot be used with --perftest: perftest -R (rdma_cm) is a different, version-dependent exchange',
      'drop --cm here and start the perftest server without -R',
    );
  }
  if (f.bidir) {
    throw invalidArgument('--bidir cannot be used with --perftest: ib_write_bw -b runs another sequence of messages', 'drop --bidir here and start the server without -b');
  }
  if (f.sizes.length !== 1) {
    throw invalidArgument(`--perftest runs one message size (a perftest server serves one connection), got ${f.sizes.length}`, 'pass --size once and match the server\'s -s');
  }
  if (test === 'lat' && f.durationMs !== undefined) {
    throw invalidArgument(
      '--duration cannot be used with lat --perftest: both ends must make exactly the same number of exchanges',
      'pass --iters N and start ib_write_lat with -n N',
    );
  }
}
