export * from './SipTypes.js';
export { SipServer, ALLOWED_METHODS, type SipServerAddress } from './SipServer.js';
export { InboundCall, Q850, parseInfoDtmf, normaliseDtmfSignal, type InboundCallState } from './InboundCall.js';
export * from './sdp/index.js';
