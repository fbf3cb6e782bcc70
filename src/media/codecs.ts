import type { SupportedCodec } from './MediaTypes.js';

/**
 * The audio codecs the media engine encodes and decodes, best first, for SIP
 * negotiation to offer (each with telephone-event for DTMF). A room mixes at
 * 16 kHz while a G722 or Opus leg is in it, so wideband phones hear each
 * other in wideband and narrowband phones are resampled. Opus runs at
 * 16 kHz (no resampler) on its 48 kHz RTP clock.
 */
export const SUPPORTED_CODECS: readonly SupportedCodec[] = Object.freeze([
  Object.freeze({ name: 'G722', payloadType: 9, clockRate: 8000, sampleRate: 16000 }),
  Object.freeze({ name: 'opus', payloadType: 111, clockRate: 48000, sampleRate: 16000, channels: 2 }),
  Object.freeze({ name: 'PCMU', payloadType: 0, clockRate: 8000, sampleRate: 8000 }),
  Object.freeze({ name: 'PCMA', payloadType: 8, clockRate: 8000, sampleRate: 8000 }),
] as const);
