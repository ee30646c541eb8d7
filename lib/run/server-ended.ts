import { RdmaError } from '../errors.js';

/**
 * The error of a run whose server went away during a size: names the cause the channel saw (and
 * what else the caller knows), not the completion errors our writes then end in.
 */
export function serverEndedSession(peer: string, size: number, channelSignal: AbortSignal, detail?: string): RdmaError {
  const reason: unknown = channelSignal.reason;
  const why = [reason instanceof Error ? reason.message : null, detail ?? null].filter((x) => x !== null).join('; ');
  return new RdmaError(`the server at ${peer} ended the session during size ${size}${why ? ` (${why})` : ''}`, {
    code: 'ERR_PEER_CLOSED',
    hint: 'see the server log (was it stopped or killed?); the figures measured before are kept',
  });
}
