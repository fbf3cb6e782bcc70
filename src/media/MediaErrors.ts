/** Typed errors of the media plane. Each carries a stable `code`. */

export class MediaError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EMEDIA', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}

/** The engine, leg or room was closed (or never existed). */
export class MediaClosedError extends MediaError {
  constructor(message = 'media object is closed', options?: { cause?: unknown }) {
    super(message, 'ECLOSED', options);
    this.name = 'MediaClosedError';
  }
}

/** No free even UDP port in [rtpPortMin, rtpPortMax]. */
export class MediaPortsExhaustedError extends MediaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'EPORTS', options);
    this.name = 'MediaPortsExhaustedError';
  }
}

/** A sound file could not be read or is not a supported WAV. */
export class InvalidSoundError extends MediaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ESOUND', options);
    this.name = 'InvalidSoundError';
  }
}

/** An argument was out of range or of the wrong type. */
export class MediaInvalidArgumentError extends MediaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'EINVAL', options);
    this.name = 'MediaInvalidArgumentError';
  }
}

/** Maps an error thrown by the addon (with `code`) to a typed MediaError. */
export function fromNativeError(err: unknown): Error {
  if (err instanceof MediaError) return err;
  if (!(err instanceof Error)) return new MediaError(String(err));
  const code = (err as Error & { code?: unknown }).code;
  switch (code) {
    case 'ECLOSED':
    case 'ENOLEG':
    case 'ENOROOM':
      return new MediaClosedError(err.message, { cause: err });
    case 'EPORTS':
      return new MediaPortsExhaustedError(err.message, { cause: err });
    case 'ESOUND':
      return new InvalidSoundError(err.message, { cause: err });
    case 'EINVAL':
      return new MediaInvalidArgumentError(err.message, { cause: err });
    default:
      return new MediaError(err.message, typeof code === 'string' ? code : 'EMEDIA', { cause: err });
  }
}

/** Runs a call into the addon, rethrowing its errors as typed errors. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNativeError(err);
  }
}
