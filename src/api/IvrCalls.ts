/**
 * Calls answered by the bridge that are not in a meeting yet (greeting,
 * access code, PIN): listed under /calls with seed 004 `state` 1 ("owned
 * by the frontend"). Application registers each answered call and removes
 * it when it ends; a call that has joined a meeting is listed by the
 * meeting instead (the API leaves it out here by its Call-ID).
 */

import type { LegStats } from '../media/MediaTypes.js';

/** Ids of calls still in the IVR start here, clear of participant ids. */
export const IVR_CALL_ID_BASE = 1_000_000_000;

export interface IvrCallInfo {
  callId: string;
  caller: string;
  callee: string;
  codec: string;
  /** Hangs the call up (BYE). */
  hangup(reason: string): void;
  /** The call's RTP/RTCP figures; undefined once its media is gone. */
  stats?(): LegStats | undefined;
}

export interface IvrCall extends IvrCallInfo {
  id: number;
  created: number;
}

export class IvrCalls {
  private readonly calls = new Map<string, IvrCall>();
  private lastId = IVR_CALL_ID_BASE;

  add(info: IvrCallInfo): IvrCall {
    const call: IvrCall = { ...info, id: ++this.lastId, created: Date.now() };
    this.calls.set(info.callId, call);
    return call;
  }

  remove(callId: string): void {
    this.calls.delete(callId);
  }

  /** Every registered call, those in meetings included; the caller filters them out. */
  list(): IvrCall[] {
    return [...this.calls.values()];
  }
}
