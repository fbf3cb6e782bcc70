/**
 * Meeting recordings: `GET /recordings` (list, with meeting number, owner,
 * created, duration), `GET /recordings/{id}`, `GET /recordings/{id}/file`
 * (the WAV file) and `DELETE /recordings/{id}`. A user sees only the
 * recordings of their own rooms (others are 404, as if absent);
 * administrators and operators see all, including those of rooms without a
 * subscriber. A recording whose file was deleted as a subscriber file is
 * no longer listed.
 */
import type { RecordingFiles } from '../../store/RecordingFiles.js';
import type { RecordingRow, RecordingStore } from '../../store/RecordingTypes.js';
import { notFound } from '../errors.js';
import { listBody, selectFields } from '../listing.js';
import type { Principal, Router, SubscriberRole } from '../router.js';
import type { ObjectSchema } from '../schema.js';
import * as S from '../schemas.js';

export interface RecordingRouteDeps {
  store: RecordingStore;
  files: RecordingFiles;
}

const ALL: SubscriberRole[] = ['administrator', 'operator', 'user'];

export function addRecordingRoutes(router: Router, deps: RecordingRouteDeps): void {
  const { store, files } = deps;
  const present = (row: RecordingRow): boolean => files.existingPath(row.subscriberSid, row.fileName) !== undefined;
  const visible = (principal: Principal): RecordingRow[] =>
    (principal.role === 'user' ? store.listRecordings(principal.sid) : store.listRecordings()).filter(present);
  const recordingFor = (principal: Principal, id: number): RecordingRow => {
    const row = store.getRecording(id);
    if (!row || (principal.role === 'user' && row.subscriberSid !== principal.sid) || !present(row)) throw notFound('recording');
    return row;
  };
  const out = (row: RecordingRow) => ({
    id: row.id,
    meetingNumber: row.meetingNumber,
    subscriberSid: row.subscriberSid,
    name: row.fileName,
    created: row.created,
    duration: row.duration,
    size: row.size,
    framesDropped: row.framesDropped,
    error: row.error,
  });
  const asItems = S.recording as unknown as ObjectSchema<never>;

  router.add({
    method: 'GET', path: '/recordings', tag: 'Recordings', summary: 'Get meeting recordings (users: their rooms only)', roles: ALL,
    query: 'list', itemSchema: asItems,
    response: { status: 200, description: 'A list of Recording objects', schema: S.recording, list: 'recordings' },
    handler: (ctx) => ({ status: 200, body: listBody('recordings', visible(ctx.principal).map(out), ctx.list) }),
  });
  router.add({
    method: 'GET', path: '/recordings/{id}', tag: 'Recordings', summary: 'Get a recording by ID', roles: ALL,
    integerParams: ['id'], query: 'item', itemSchema: asItems,
    response: { status: 200, description: 'The Recording object', schema: S.recording },
    handler: (ctx) => ({ status: 200, body: selectFields(out(recordingFor(ctx.principal, ctx.ids.id!)), ctx.fields) }),
  });
  router.add({
    method: 'GET', path: '/recordings/{id}/file', tag: 'Recordings', summary: "Download a recording's WAV file", roles: ALL,
    integerParams: ['id'],
    response: { status: 200, description: 'The WAV file (16-bit mono PCM)', binary: 'audio/wav' },
    handler: (ctx) => {
      const row = recordingFor(ctx.principal, ctx.ids.id!);
      const path = files.existingPath(row.subscriberSid, row.fileName);
      if (!path) throw notFound('recording');
      return { status: 200, file: { path, contentType: 'audio/wav', name: row.fileName } };
    },
  });
  router.add({
    method: 'DELETE', path: '/recordings/{id}', tag: 'Recordings', summary: 'Delete a recording and its file', roles: ALL,
    integerParams: ['id'],
    response: { status: 204, description: 'The recording is deleted' },
    handler: (ctx) => {
      const row = recordingFor(ctx.principal, ctx.ids.id!);
      files.remove(row.subscriberSid, row.fileName);
      store.deleteRecording(row.id);
      return { status: 204 };
    },
  });
}
