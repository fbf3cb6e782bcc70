/**
 * Seed 004's `/subscribers/{sid}/meetingRooms[...]`: the meeting room and
 * keychain routes again, scoped to the rooms one subscriber owns. Each
 * mirrors the `/meetingRooms` route of the same shape: it checks that the
 * caller may see the subscriber (users: only themselves) and that the room
 * belongs to it, then runs the same handler, so the two cannot drift.
 */
import type { ConferenceStore } from '../../store/StoreTypes.js';
import { notFound } from '../errors.js';
import { listBody } from '../listing.js';
import type { AnyRoute, Principal, RouteContext, Router } from '../router.js';
import { meetingRoomOut } from './configRoutes.js';

export function addSubscriberRoomRoutes(router: Router, store: ConferenceStore): void {
  const checkSubscriber = (principal: Principal, sid: string): void => {
    if (principal.role === 'user' && principal.sid !== sid) throw notFound('subscriber');
    if (!store.getSubscriber(sid)) throw notFound('subscriber');
  };
  const roomRoutes = router.routes.filter((r) => r.path === '/meetingRooms' || r.path.startsWith('/meetingRooms/'));
  for (const route of roomRoutes) {
    const scoped: AnyRoute = {
      ...route,
      path: `/subscribers/{sid}${route.path}`,
      tag: 'Subscribers',
      summary: `${route.summary} (of the subscriber)`,
      // Seed 004 answers 200 to a room created under a subscriber.
      response: route.method === 'POST' && route.path === '/meetingRooms' ? { ...route.response, status: 200 } : route.response,
      handler: async (ctx: RouteContext<unknown>) => {
        const sid = ctx.params.sid!;
        checkSubscriber(ctx.principal, sid);
        if (route.method === 'GET' && route.path === '/meetingRooms') {
          const rooms = store.listMeetingRooms().filter((r) => r.subscriberSid === sid);
          return { status: 200, body: listBody('meetingRooms', rooms.map(meetingRoomOut), ctx.list) };
        }
        const meetingNumber = ctx.ids.meetingNumber;
        if (meetingNumber !== undefined && store.getMeetingRoom(meetingNumber)?.subscriberSid !== sid) throw notFound('meeting room');
        const result = await route.handler(ctx);
        return route.method === 'POST' && route.path === '/meetingRooms' ? { ...result, status: 200 } : result;
      },
    };
    router.add(scoped);
  }
}
