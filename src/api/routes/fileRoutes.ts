/**
 * Seed 004's subscriber media files: `POST /subscribers/{sid}/files`
 * (multipart/form-data, one part named `file`), `GET` (list),
 * `DELETE /subscribers/{sid}/files` (a JSON array of names, all or none)
 * and `DELETE /subscribers/{sid}/files/{fileName}`. Only WAV files are
 * taken (the media engine plays WAV); names are plain file names, never
 * paths. Any refusal leaves the subscriber's files as they were.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { fileNameProblem, readHead, wavInfo, type SubscriberFiles } from '../../store/SubscriberFiles.js';
import type { RecordingStore } from '../../store/RecordingTypes.js';
import type { ConferenceStore } from '../../store/StoreTypes.js';
import { ApiError, badRequest, conflict, detail, notFound } from '../errors.js';
import { listBody, selectFields } from '../listing.js';
import type { Principal, Router, SubscriberRole } from '../router.js';
import type { ObjectSchema } from '../schema.js';
import { s } from '../schema.js';

export const fileDescriptor = s.object({
  duration: s.integer().readOnly().describe('Milliseconds of audio'),
  name: s.string().readOnly(),
  size: s.integer().readOnly(),
  url: s.string().readOnly(),
});

const fileNames = s.array(s.string({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100 });

/** The upload's body in the OpenAPI document (the router only describes JSON bodies). */
export const FILE_UPLOAD_BODY = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: { type: 'object', required: ['file'], additionalProperties: false, properties: { file: { type: 'string', format: 'binary', description: 'A WAV file (part type audio/wav), at most 10 MiB' } } },
    },
  },
};

const ALL: SubscriberRole[] = ['administrator', 'operator', 'user'];
const WAV_TYPES = new Set(['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave']);
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/**
 * Uploaded files one subscriber may keep, so that no subscriber can fill the
 * disk. Meeting recordings land in the same directory but do not count: a
 * subscriber's recordings never stop them uploading prompts.
 */
export const DEFAULT_MAX_FILES = 100;

export interface FileRouteDeps {
  store: ConferenceStore;
  files: SubscriberFiles;
  /** The recording rows, to tell a subscriber's recordings from their uploads; without it every file counts as an upload. */
  recordings?: Pick<RecordingStore, 'listRecordings'>;
  maxUploadBytes?: number;
  maxFilesPerSubscriber?: number;
}

export function addFileRoutes(router: Router, deps: FileRouteDeps): void {
  const { store, files } = deps;
  const maxBytes = deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const maxFiles = deps.maxFilesPerSubscriber ?? DEFAULT_MAX_FILES;
  const subscriberSid = (principal: Principal, sid: string): string => {
    if (principal.role === 'user' && principal.sid !== sid) throw notFound('subscriber');
    if (!store.getSubscriber(sid)) throw notFound('subscriber');
    return sid;
  };
  /** The subscriber's files less their meeting recordings (those have rows in the store). */
  const uploadCount = (sid: string): number => {
    const recorded = new Set((deps.recordings?.listRecordings(sid) ?? []).map((row) => row.fileName));
    return files.list(sid).filter((file) => !recorded.has(file.name)).length;
  };
  const checkName = (field: string, name: string): void => {
    const problem = fileNameProblem(name);
    if (problem) throw badRequest(field, problem);
  };

  router.add({
    method: 'GET', path: '/subscribers/{sid}/files', tag: 'Subscribers', summary: "Get the subscriber's files", roles: ALL,
    query: 'list', itemSchema: fileDescriptor as unknown as ObjectSchema<never>,
    response: { status: 200, description: 'A list of File Descriptor objects', schema: fileDescriptor, list: 'fileDescriptors' },
    handler: (ctx) => ({ status: 200, body: listBody('fileDescriptors', files.list(subscriberSid(ctx.principal, ctx.params.sid!)), ctx.list) }),
  });

  router.add({
    method: 'POST', path: '/subscribers/{sid}/files', tag: 'Subscribers',
    summary: `Upload a WAV file (multipart/form-data, part "file", at most ${maxBytes} bytes)`, roles: ALL,
    response: { status: 200, description: 'The File Descriptor of the stored file', schema: fileDescriptor },
    handler: async (ctx) => {
      const sid = subscriberSid(ctx.principal, ctx.params.sid!);
      const request = ctx.request;
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'multipart/form-data') {
        throw new ApiError(415, 'unsupported media type', [detail('Content-Type', `must be multipart/form-data, not ${JSON.stringify(type || '(none)')}`)]);
      }
      if (uploadCount(sid) >= maxFiles) {
        throw conflict(`a subscriber keeps at most ${maxFiles} files (meeting recordings not counted); delete some first`, 'file');
      }
      const declared = Number(request.headers['content-length'] ?? 0);
      // A little room for the multipart framing around the file itself.
      if (declared > maxBytes + 64 * 1024) throw tooLarge(maxBytes);
      const temporary = files.temporaryPath(sid);
      try {
        const name = await receive(request, temporary, maxBytes);
        const wav = wavInfo(readHead(temporary));
        if (!wav.ok) throw new ApiError(415, 'unsupported media type', [detail('file', `the content ${wav.reason}`)]);
        if (!files.commit(sid, temporary, name)) throw conflict(`a file named ${name} exists; delete it first`, 'file.name');
        return { status: 200, body: selectFields(files.get(sid, name)!, ctx.fields) };
      } finally {
        rmSync(temporary, { force: true });
      }
    },
  });

  router.add({
    method: 'DELETE', path: '/subscribers/{sid}/files', tag: 'Subscribers', summary: 'Delete files by name (a JSON array): all of them or none', roles: ALL,
    body: fileNames,
    response: { status: 204, description: 'The files are deleted' },
    handler: (ctx) => {
      const sid = subscriberSid(ctx.principal, ctx.params.sid!);
      ctx.body.forEach((name, i) => checkName(String(i), name));
      const missing = files.delete(sid, ctx.body);
      if (missing.length > 0) throw new ApiError(404, 'no item error', missing.map((name) => detail('files', `no file named ${name}`)));
      return { status: 204 };
    },
  });

  router.add({
    method: 'GET', path: '/subscribers/{sid}/files/{fileName}', tag: 'Subscribers', summary: 'Download a file (an upload or a meeting recording)', roles: ALL,
    response: { status: 200, description: 'The WAV file', binary: 'audio/wav' },
    handler: (ctx) => {
      const sid = subscriberSid(ctx.principal, ctx.params.sid!);
      const name = ctx.params.fileName!;
      checkName('fileName', name);
      if (!files.get(sid, name)) throw notFound('file');
      return { status: 200, file: { path: files.pathOf(sid, name), contentType: 'audio/wav', name } };
    },
  });

  router.add({
    method: 'DELETE', path: '/subscribers/{sid}/files/{fileName}', tag: 'Subscribers', summary: 'Delete a file', roles: ALL,
    response: { status: 204, description: 'The file is deleted' },
    handler: (ctx) => {
      const sid = subscriberSid(ctx.principal, ctx.params.sid!);
      checkName('fileName', ctx.params.fileName!);
      if (files.delete(sid, [ctx.params.fileName!]).length > 0) throw notFound('file');
      return { status: 204 };
    },
  });
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'request body too large', [detail('file', `must be at most ${maxBytes} bytes`)], { Connection: 'close' });
}

/**
 * Streams the one `file` part of a multipart body into `temporary` and
 * returns its file name; refuses other parts, a second file, a bad name or
 * type, and more than `maxBytes`. Refused parts are skipped while the
 * parser reads on to the end (so the answer goes out on a clean
 * connection); a body past the hard cap is cut off at once.
 */
function receive(request: import('node:http').IncomingMessage, temporary: string, maxBytes: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // preservePath: the raw name is checked and refused, never silently cut down to its last segment.
      parser = busboy({ headers: request.headers, preservePath: true, limits: { files: 1, fileSize: maxBytes, fields: 1 } });
    } catch (err) {
      reject(badRequest('Content-Type', `bad multipart header: ${(err as Error).message}`));
      return;
    }
    let failure: ApiError | undefined;
    let name: string | undefined;
    let written: Promise<void> | undefined;
    let settled = false;
    const fail = (error: ApiError): void => {
      failure ??= error;
    };
    const skip = (stream: import('node:stream').Readable, error: ApiError): void => {
      fail(error);
      stream.resume();
    };
    parser.on('file', (field, stream, info) => {
      if (failure) return skip(stream, failure);
      if (field !== 'file') return skip(stream, badRequest(field, 'unknown form field; the upload is the part named "file"'));
      const problem = fileNameProblem(info.filename ?? '');
      if (problem) return skip(stream, badRequest('file.name', problem));
      const type = info.mimeType.toLowerCase();
      if (!WAV_TYPES.has(type)) {
        return skip(stream, new ApiError(415, 'unsupported media type', [detail('file', `content type must be audio/wav, not ${JSON.stringify(type)}`)]));
      }
      name = info.filename;
      stream.on('limit', () => fail(tooLarge(maxBytes)));
      written = pipeline(stream, createWriteStream(temporary));
    });
    parser.on('field', (field) => fail(badRequest(field, 'unknown form field; the upload is the part named "file"')));
    parser.on('fieldsLimit', () => fail(badRequest('body', 'only the file part is taken; no other form fields')));
    parser.on('filesLimit', () => fail(badRequest('body', 'only one file per upload')));
    parser.on('error', (err: Error) => {
      fail(badRequest('body', `malformed multipart body: ${err.message}`));
      request.unpipe(parser);
      request.resume();
      finish();
    });
    parser.on('close', () => finish());
    // Settles once the file part (if any) is flushed, so the caller's cleanup removes a complete temporary file.
    const finish = (): void => {
      if (settled) return;
      settled = true;
      void (written ?? Promise.resolve()).then(
        () => {
          if (failure) reject(failure);
          else if (!name) reject(badRequest('file', 'the upload has no part named "file"'));
          else resolve(name);
        },
        (err: Error) => reject(failure ?? badRequest('file', `the upload failed: ${err.message}`)),
      );
    };
    // A chunked body has no declared length: count it, and stop reading past the cap.
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes + 64 * 1024 && !settled) {
        settled = true;
        request.unpipe(parser);
        request.resume();
        reject(tooLarge(maxBytes));
      }
    });
    request.on('aborted', () => {
      fail(badRequest('body', 'the upload was cut off'));
      finish();
    });
    request.pipe(parser);
  });
}
