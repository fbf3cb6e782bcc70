import { resolveAttributes } from '../conference/attributes/ResolvedAttributes.js';
import type { Logger } from '../log.js';
import type { ConferenceStore, Did } from '../store/StoreTypes.js';

/** The longest answer delay honoured; a larger call_delay is capped so that a typo cannot park calls for hours. */
export const MAX_CALL_DELAY_SECONDS = 60;

/**
 * Seed 004's `call_delay`: seconds to ring before answering, resolved like
 * every attribute (call flow, DID group, then DID; the DID wins). 0 when
 * unset or not a non-negative whole number.
 */
export function callDelaySeconds(did: Did, store: Pick<ConferenceStore, 'getDidGroup'>, logger?: Logger): number {
  const seconds = resolveAttributes({ store, did, ...(logger ? { logger } : {}) }).integer('call_delay', 0);
  if (!Number.isInteger(seconds) || seconds < 0) return 0;
  return Math.min(seconds, MAX_CALL_DELAY_SECONDS);
}
