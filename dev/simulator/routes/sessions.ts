/** GET jobSessions/{id} and its log, the same for both generations. */
import { notFound } from '../response';
import type { ApiGeneration } from '../types';
import { sessionLogView, sessionView } from '../views';
import { ID, type RouteDef, type RouteDeps } from './route';

export function sessionRoutes(deps: RouteDeps, generation: ApiGeneration): RouteDef[] {
  const base = `/api/${generation}/jobSessions/`;
  const prefix = `^\\/api\\/${generation.replace('.', '\\.')}\\/jobSessions\\/${ID}`;
  const find = (id: string) => {
    const session = deps.state.getSession(id);
    return session?.generation === generation ? session : undefined;
  };
  const missing = (id: string) => notFound(`Job session with id '${id}' was not found.`, `${base}${id}`);
  return [
    {
      route: generation === 'v1' ? 'v1.getSession' : 'v8.1.getSession',
      method: 'GET',
      pattern: new RegExp(`${prefix}$`),
      generation,
      handle: ({ params, linkOrigin }) => {
        const session = find(params.id);
        if (!session) return missing(params.id);
        return { status: 200, body: sessionView(session, linkOrigin, deps.now()) };
      },
    },
    {
      route: generation === 'v1' ? 'v1.getSessionLog' : 'v8.1.getSessionLog',
      method: 'GET',
      pattern: new RegExp(`${prefix}\\/log$`),
      generation,
      handle: ({ params }) => {
        const session = find(params.id);
        if (!session) return missing(params.id);
        return { status: 200, body: sessionLogView(session, deps.now()) };
      },
    },
  ];
}
