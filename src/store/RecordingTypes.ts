/**
 * Meeting recordings as the store keeps them: one row per finished
 * recording, written when the media engine reports its file closed. The
 * file itself lives on disk (see RecordingFiles); the row carries what the
 * file cannot tell (which meeting, whose, when, how it went).
 */

export interface RecordingRow {
  id: number;
  meetingNumber: number;
  /** The owner of the meeting room when it was recorded; null for rooms without one (administrators and operators see those). */
  subscriberSid: string | null;
  /** A plain file name (no path) in the owner's directory. */
  fileName: string;
  /** When the recording started (ms since the epoch). */
  created: number;
  /** Milliseconds of audio. */
  duration: number;
  size: number;
  /** Frames the writer could not keep up with (a slow disk); 0 normally. */
  framesDropped: number;
  /** Why writing stopped early (the part before it is valid), or null. */
  error: string | null;
}

export type NewRecording = Omit<RecordingRow, 'id'>;

export interface RecordingStore {
  addRecording(recording: NewRecording): RecordingRow;
  getRecording(id: number): RecordingRow | undefined;
  /** Oldest first; only this subscriber's when `sid` is given. */
  listRecordings(sid?: string): RecordingRow[];
  deleteRecording(id: number): boolean;
}
