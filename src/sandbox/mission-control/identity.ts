import { route, type Route, type RouteContext } from './router.js';
import { toWire } from './time.js';

/** The local-auth identity (mission-control-api.md §2, §4.1): one user, owner of org "Personal". */

function user(ctx: RouteContext): { body: unknown } {
  return {
    body: {
      id: ctx.store.userId,
      clerk_user_id: 'local-auth-user',
      email: null,
      name: 'Local User',
      preferred_name: null,
      pronouns: null,
      timezone: null,
      notes: null,
      context: null,
      is_super_admin: false,
    },
  };
}

export function identityRoutes(): Route[] {
  return [
    route('POST', '/auth/bootstrap', 'identity', user),
    route('GET', '/users/me', 'identity', user),
    route('GET', '/organizations/me', 'identity', (ctx) => {
      const org = ctx.store.organization;
      return { body: { id: org.id, name: org.name, created_at: toWire(org.created_at), updated_at: toWire(org.updated_at) } };
    }),
  ];
}
