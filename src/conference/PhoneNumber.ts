/**
 * Normalizes a dialed number or DID to the digits-only E.164 form the store
 * keys on: trunks send `+15550100`, `15550100`, `tel:+1-555-0100` or a SIP
 * URI user with parameters, and all of them must find the same DID.
 * Returns undefined when what is left is not a plausible phone number.
 */
export function normalizePhoneNumber(input: string): string | undefined {
  let value = input.trim();
  value = value.replace(/^tel:/i, '');
  // A SIP URI user part may carry parameters (;phone-context=..., ;npdi).
  const semicolon = value.indexOf(';');
  if (semicolon >= 0) value = value.slice(0, semicolon);
  value = value.replace(/[\s().-]/g, '');
  if (value.startsWith('+')) value = value.slice(1);
  if (!/^\d{3,15}$/.test(value)) return undefined;
  return value;
}
