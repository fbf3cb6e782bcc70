export { MediaEngine, type MediaEngineObserverEvents } from './MediaEngine.js';
export { MediaLeg } from './MediaLeg.js';
export { MediaRoom, type MediaRoomEvents } from './MediaRoom.js';
export { MediaRecording, type MediaRecordingEvents } from './MediaRecording.js';
export { Sound } from './Sound.js';
export { SUPPORTED_CODECS } from './codecs.js';
export {
  MediaError,
  MediaClosedError,
  MediaPortsExhaustedError,
  InvalidSoundError,
  MediaInvalidArgumentError,
} from './MediaErrors.js';
export type * from './MediaTypes.js';
