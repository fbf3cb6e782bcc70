export * from './SipTypes.js';
export { SipServer, ALLOWED_METHODS, SUPPORTED_EXTENSIONS, unsupportedExtensions, type SipServerAddress } from './SipServer.js';
export { InboundCall, Q850, parseInfoDtmf, normaliseDtmfSignal, type InboundCallState } from './InboundCall.js';
export { OutboundCall, failureCause, type OutboundCallState } from './OutboundCall.js';
export { TrunkTable, normaliseE164, formatForTrunk, parseAddressSpec } from './trunks.js';
export { DigestVerifier, digestAuthorization } from './digest.js';
export { TokenBucketLimiter, type RateLimit } from './limits.js';
export * from './sdp/index.js';
