import type { SupportedCodec } from './MediaTypes.js';

/**
 * The audio codecs the media engine encodes and decodes, best first, for SIP
 * negotiation to offer (each with telephone-event for DTMF). A room mixes at
 * 16 kHz while a G722 leg is in it, so wideband phones hear each other in
 * wideband and narrowband phones are resampled.
 */
export const SUPPORTED_CODECS: readonly SupportedCodec[] = Object.freeze([
  Object.freeze({ name: 'G722', payloadType: 9, clockRate: 8000, sampleRate: 16000 }),
  Object.freeze({ name: 'PCMU', payloadType: 0, clockRate: 8000, sampleRate: 8000 }),
  Object.freeze({ name: 'PCMA', payloadType: 8, clockRate: 8000, sampleRate: 8000 }),
] as const);
