// Every `code` an RdmaError carries, what it means and what to do: the one list the API exports
// (ErrorCode, describeErrorCode), docs/cli.md tabulates and a test checks against the sources.
// Scheme: ERR_<AREA>_<WHAT>. RDMA: this machine (arguments, devices, verbs, runs); PEER: what the
// other node did or did not do; SESSION: this side's session; SERVER: this machine serving
// (the session server, the exporter); MESH: a run over many nodes; PROTOCOL: the exchange on the wire.

/** What a code means, what to do about it, and the CLI's exit code for it. */
export interface ErrorCodeInfo {
  meaning: string;
  action: string;
  /** 2 for a bad argument, 1 for everything else (see docs/cli.md, Exit codes). */
  exit: 1 | 2;
}

const table = {
  ERR_RDMA_INVALID_ARGUMENT: { exit: 2, meaning: 'an option or argument is out of range, malformed, conflicts with another or names something that is not there', action: 'read the message: it names the value, the limit and the fix' },
  ERR_RDMA_NO_RAILS: { exit: 1, meaning: 'no ACTIVE Ethernet RDMA port with a netdev was found', action: 'check cables and `ip link`; run spark-rdma doctor; without hardware use soft-RoCE (rdma_rxe)' },
  ERR_RDMA_NO_GID: { exit: 1, meaning: 'a chosen rail has no IPv4 RoCE v2 GID (its netdev has no IPv4 address, or RoCE v2 is off)', action: 'give the netdev an IPv4 address, or pass --gid-index' },
  ERR_RDMA_NO_IPV4: { exit: 1, meaning: 'a server has no rail with an IPv4 address to listen on', action: 'give the rails IPv4 addresses, or pass --bind' },
  ERR_RDMA_NO_DEVICE: { exit: 1, meaning: 'the named RDMA device could not be opened', action: 'check `spark-rdma devices` and /dev/infiniband (in a container: --device /dev/infiniband)' },
  ERR_RDMA_MEMLOCK: { exit: 1, meaning: 'registering memory failed against the locked-memory limit', action: 'raise it: `ulimit -l unlimited` (docker: --ulimit memlock=-1)' },
  ERR_RDMA_NO_MEMORY: { exit: 1, meaning: 'host memory for the buffers could not be allocated', action: 'use smaller --size or fewer --qps' },
  ERR_RDMA_SYSCALL: { exit: 1, meaning: 'a verbs or rdma_cm call failed; errno and syscall say which', action: 'read the hint; --debug prints errno and syscall' },
  ERR_RDMA_WC: { exit: 1, meaning: 'a work completion failed (wcStatus names it, e.g. retry exceeded)', action: 'check GIDs, routes and MTU on both ends (the hint says which fits the status)' },
  ERR_RDMA_CQ_TIMEOUT: { exit: 1, meaning: 'posted writes did not complete before the completion deadline', action: 'the link or the peer stalled: check the port state and the peer' },
  ERR_RDMA_PEER_SILENT: { exit: 1, meaning: 'in a latency run, no write from the peer arrived within the silence limit', action: 'check that the peer still runs and that its writes reach this node' },
  ERR_RDMA_CM: { exit: 1, meaning: 'an rdma_cm step (resolve, connect, accept) failed', action: 'check the address, the port after --port and that the peer runs with --cm' },
  ERR_RDMA_CM_TIMEOUT: { exit: 1, meaning: 'an rdma_cm step did not finish within its deadline', action: 'check that the peer is reachable on its rail address' },
  ERR_RDMA_CANCELLED: { exit: 1, meaning: 'an rdma_cm step was cancelled because its object was closed', action: 'nothing, if the run was stopped on purpose' },
  ERR_RDMA_UNREACHABLE: { exit: 1, meaning: 'a rail got no ARP answer from the peer rail\'s address when its QPs moved to RTR: the link passes nothing', action: 'check the cable and both ports (ip link), then ping the peer rail\'s address from this rail\'s netdev' },
  ERR_RDMA_MTU_MISMATCH: { exit: 1, meaning: 'the path MTU asked for is above what one end can use', action: 'set the same netdev MTU on both ends (9000 gives 4096), or pass --mtu' },
  ERR_RDMA_RAIL_MISMATCH: { exit: 1, meaning: 'the server has fewer rails (or other ones) than the client proposed', action: 'pass --rails or --devices so both ends use rails they have' },
  ERR_RDMA_RAIL_FAILED: { exit: 1, meaning: 'one or more rails failed during a run; the others still report', action: 'read the per-rail reasons in the message' },
  ERR_RDMA_DOCTOR_FAILED: { exit: 1, meaning: 'spark-rdma doctor found at least one failing check', action: 'apply the fix each FAIL line names' },
  ERR_RDMA_ADDON_LOAD: { exit: 1, meaning: 'the native addon could not be loaded', action: 'install rdma-core (libibverbs1 librdmacm1 ibverbs-providers), or build it: npm run build:native' },
  ERR_RDMA_BUSY: { exit: 1, meaning: 'an object is still in use (an engine runs on it, or children are open)', action: 'stop the engine and close children first (API use)' },
  ERR_RDMA_CLOSED: { exit: 1, meaning: 'an object was used after close()', action: 'a bug in the caller (API use)' },
  ERR_RDMA_NO_THREAD: { exit: 1, meaning: 'an engine thread could not be started (the process hit a thread or memory limit)', action: 'raise ulimit -u / ulimit -v, or run fewer rails at once' },
  ERR_RDMA_INTERNAL: { exit: 1, meaning: 'an unexpected failure inside spark-rdma', action: 'report it with the output of --debug' },
  ERR_PEER_UNREACHABLE: { exit: 1, meaning: 'no TCP connection to the peer within the connect deadline', action: 'check the address, that the peer runs `spark-rdma bw|lat` and the firewall (TCP --port)' },
  ERR_PEER_SILENT: { exit: 1, meaning: 'the peer did not answer a session step within --peer-timeout', action: 'check that the peer still runs; raise --peer-timeout on a slow machine' },
  ERR_PEER_CLOSED: { exit: 1, meaning: 'the peer closed or reset the session', action: 'read the peer\'s log' },
  ERR_PEER_VERSION: { exit: 1, meaning: 'a perftest peer (--perftest, or a perftest client of a server) is older than 5.70', action: 'upgrade perftest on the peer (ib_write_bw --version)' },
  ERR_PEER_MISMATCH: { exit: 1, meaning: 'a perftest peer runs other flags than this side (-q, -s, -n, -b)', action: 'the hint names the perftest flag or spark-rdma option to change' },
  ERR_PROTOCOL_PERFTEST: { exit: 1, meaning: 'a perftest peer sent bytes that are not perftest\'s exchange (garbage, -R, --data_validation, no GID)', action: 'run the peer as a plain ib_write_bw / ib_write_lat without -R' },
  ERR_RDMA_GID_MISMATCH: { exit: 1, meaning: 'one end uses an IPv4 GID and the other not', action: 'give the perftest peer the IPv4 RoCE v2 GID index (-x)' },
  ERR_PEER_REJECTED: { exit: 1, meaning: 'the server refused the proposal with a code a spark-rdma server does not send (it is in the message)', action: 'read the server\'s reason; run the same release on both nodes' },
  ERR_SERVER_BUSY: { exit: 1, meaning: 'the server already runs a session', action: 'wait for it to finish; one benchmark at a time per server' },
  ERR_SERVER_INTERNAL: { exit: 1, meaning: 'the server failed on its side', action: 'read the server\'s log' },
  ERR_SERVER_LISTEN: { exit: 1, meaning: 'a server or the exporter could not listen on an address', action: 'check `ip addr`, --bind or --listen; ports below 1024 need privileges' },
  ERR_SERVER_ADDRESS_IN_USE: { exit: 1, meaning: 'the port to listen on is taken on this machine', action: 'stop the other server, or pass another --port (on both nodes) or --listen' },
  ERR_SESSION_STATE: { exit: 1, meaning: 'this side broke the order of the session', action: 'a bug: report it with --debug' },
  ERR_SESSION_CLOSED: { exit: 1, meaning: 'this side ended the session (stopped or failed) before the step', action: 'read the error that ended it' },
  ERR_SESSION_UNKNOWN: { exit: 1, meaning: 'an error whose code could not be sent as is reached the peer', action: 'read the message' },
  ERR_MESH_RENDEZVOUS: { exit: 1, meaning: 'the ranks of a mesh run did not all meet at rank 0 before the deadline, or one was refused', action: 'check the rendezvous address and that every node started; the message names the missing rank' },
  ERR_MESH_PROTOCOL: { exit: 1, meaning: 'a mesh control message was malformed or out of turn', action: 'run the same release on every node' },
  ERR_MESH_ABORTED: { exit: 1, meaning: 'another rank of the mesh run gave up and said why', action: 'read that rank\'s reason in the message and its log' },
  ERR_PROTOCOL: { exit: 1, meaning: 'the peer sent something that is not the session protocol, or out of turn', action: 'check that the peer is spark-rdma on the right port' },
  ERR_PROTOCOL_VERSION: { exit: 1, meaning: 'the peer speaks another protocol version', action: 'install the same @spark/rdma release on both nodes' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof table;

/** Every code as a constant: `err.code === ErrorCode.ERR_PEER_UNREACHABLE`. */
export const ErrorCode: { readonly [K in ErrorCode]: K } = Object.freeze(
  Object.fromEntries(Object.keys(table).map((k) => [k, k])) as { [K in ErrorCode]: K },
);

/** Every code with what it means and what to do, in the order docs/cli.md lists them. */
export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorCodeInfo>> = table;

/** What a code means and what to do; undefined for a code this version does not know (a peer's). */
export function describeErrorCode(code: string): ErrorCodeInfo | undefined {
  return Object.hasOwn(table, code) ? table[code as ErrorCode] : undefined;
}
