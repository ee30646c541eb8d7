import { describePairing, type RailPairing } from '../../run/rail-pairing.js';

/** `rail pairing: rxe0 10.77.0.2 -> rxe0 10.77.0.1 (same subnet 10.77.0.0/24), ...`; '' in loopback. */
export function pairingLine(pairing: RailPairing[] | null | undefined): string {
  if (!pairing || pairing.length === 0) return '';
  return `rail pairing (this node -> server): ${pairing.map(describePairing).join('; ')}`;
}
