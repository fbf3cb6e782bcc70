import type { ConferenceStore, Did } from '../store/StoreTypes.js';

/** The longest answer delay honoured; a larger call_delay is capped so that a typo cannot park calls for hours. */
export const MAX_CALL_DELAY_SECONDS = 60;

/**
 * Seed 004's `call_delay`: seconds to ring before answering, set on the DID
 * or else on its DID group (the DID wins). 0 when unset or not a
 * non-negative integer. Kept to this one function so that the full
 * attribute resolver can take it over.
 */
export function callDelaySeconds(did: Did, store: Pick<ConferenceStore, 'getDidGroup'>): number {
  const raw =
    did.attributes.find((a) => a.name === 'call_delay')?.value ??
    store.getDidGroup(did.didGroupId)?.attributes.find((a) => a.name === 'call_delay')?.value;
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return 0;
  return Math.min(Number(raw), MAX_CALL_DELAY_SECONDS);
}
