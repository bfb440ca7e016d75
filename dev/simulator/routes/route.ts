/** The shape of a route and what its handler gets. */
import type { IncomingHttpHeaders } from 'node:http';
import type { TokenStore } from '../auth';
import type { SimResponse } from '../response';
import type { ListingFaults } from '../faults';
import type { SimState } from '../state';
import type { ApiGeneration, SimRoute, SimUser, SimulatorCounters } from '../types';

export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: string;
  headers: IncomingHttpHeaders;
  /** scheme://host the absolute links of this answer point at. */
  linkOrigin: string;
  /** A 'stuck' fault applies: the session this request starts never ends. */
  forceStuck: boolean;
  /** A 'vanish' fault applies: the restore point disappears before the request is handled. */
  vanish: boolean;
  /** Listing faults that apply (VM listings only). */
  listing: ListingFaults;
}

export interface RouteDef {
  route: SimRoute;
  method: 'GET' | 'POST' | 'DELETE';
  /** Matches the whole path; named groups become params. */
  pattern: RegExp;
  /** The API generation the route belongs to (undefined: unversioned, always served). */
  generation?: ApiGeneration;
  /** Served without a bearer token. */
  anonymous?: boolean;
  /** The VMs a request is about, for fault rules with a vmId. */
  vmIdsOf?: (request: Pick<RouteRequest, 'params' | 'query' | 'body'>) => string[];
  /** The restore points a request is about, for fault rules with a restorePointId. */
  restorePointIdsOf?: (request: Pick<RouteRequest, 'params'>) => string[];
  handle(request: RouteRequest): SimResponse;
}

export interface RouteDeps {
  state: SimState;
  tokens: TokenStore;
  users: SimUser[];
  counters: SimulatorCounters;
  now: () => number;
  accessTokenLifetimeSec: number;
  maxPageSize: number;
}

export const ID = '(?<id>[A-Za-z0-9-]+)';

/** Adds one to a counter keyed by name. */
export function bump(counter: Record<string, number>, key: string): void {
  counter[key] = (counter[key] ?? 0) + 1;
}
