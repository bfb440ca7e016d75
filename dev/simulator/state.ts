/**
 * The appliance's state: the fleet and the deletion sessions. A session's status is computed from its
 * start timestamp and each VM's duration when asked (O(1)), so thousands of sessions need no timers.
 */
import { createPoint, createVm, fleetSpecs, placementOf, type RestorePoint, type SimVm } from './fleet';
import { createRandom } from './random';
import type {
  ApiGeneration,
  SessionOutcome,
  SimRestorePointSpec,
  SimSessionSpec,
  SimSessionView,
  SimVmSpec,
  SimulatorOptions,
} from './types';

export type SessionStatus = 'Running' | SessionOutcome;

/** One VM's share of a deletion session. */
export interface SessionPart {
  vmId: string;
  vmName: string;
  /** The ManualSnapshot restore points this part removes when it ends well. */
  pointIds: string[];
  durationMs: number;
  outcome: SessionOutcome;
  stuck: boolean;
}

/** What a session does: a bulk delete per VM, the delete of one restore point, or other work. */
export type SessionPurpose = 'bulk' | 'point' | 'other';

export interface SessionRecord {
  id: string;
  generation: ApiGeneration;
  /** A JobSessionType value. */
  type: string;
  purpose: SessionPurpose;
  startMs: number;
  parts: SessionPart[];
}

export interface StatusAt {
  status: SessionStatus;
  /** Set once the session (or part) has ended. */
  stopMs?: number;
}

const SEVERITY: Record<SessionOutcome, number> = { Success: 0, Warning: 1, Error: 2 };

export function partStatus(session: SessionRecord, part: SessionPart, nowMs: number): StatusAt {
  const stopMs = session.startMs + part.durationMs;
  if (part.stuck || nowMs < stopMs) return { status: 'Running' };
  return { status: part.outcome, stopMs };
}

/** Running while any part runs, then the worst outcome of the parts. */
export function sessionStatus(session: SessionRecord, nowMs: number): StatusAt {
  let worst: SessionOutcome = 'Success';
  let stopMs = session.startMs;
  for (const part of session.parts) {
    const at = partStatus(session, part, nowMs);
    if (at.status === 'Running') return { status: 'Running' };
    if (SEVERITY[at.status] > SEVERITY[worst]) worst = at.status;
    stopMs = Math.max(stopMs, at.stopMs ?? stopMs);
  }
  return { status: worst, stopMs };
}

export interface SimState {
  /** The VM with every ended deletion applied to its restore points. */
  getVm(id: string): SimVm | undefined;
  setVm(spec: SimVmSpec): void;
  /** All VMs, in fleet order, settled. */
  listVms(): SimVm[];
  /** Starts one session covering `vmIds` (all must exist). */
  startDeletion(generation: ApiGeneration, vmIds: string[], forceStuck: boolean): SessionRecord;
  /** Starts a v8.1 session deleting one restore point of `vmId` (both must exist). */
  startPointDeletion(vmId: string, pointId: string, forceStuck: boolean): SessionRecord;
  /** Starts a session that removes nothing (a backup, a restore ...). */
  addSession(spec: SimSessionSpec): SessionRecord;
  /** The VM (settled) that currently has this restore point. */
  findPoint(pointId: string): { vm: SimVm; point: RestorePoint } | undefined;
  /** The VM a restore point belongs or belonged to. */
  ownerOf(pointId: string): string | undefined;
  /** Removes a restore point at once, as if deleted outside the appliance's API. */
  removePoint(pointId: string): void;
  addRestorePoint(vmId: string, spec: SimRestorePointSpec): RestorePoint;
  getSession(id: string): SessionRecord | undefined;
  /** All sessions, oldest first. */
  allSessions(): SessionRecord[];
  sessionViews(): SimSessionView[];
}

export interface StateOptions {
  options: SimulatorOptions;
  now: () => number;
}

export function createState({ options, now }: StateOptions): SimState {
  const seed = options.seed ?? 1;
  // Separate streams keep fleet generation, session draws and fault draws independent of each other.
  const fleetRandom = createRandom(seed);
  const sessionRandom = createRandom(seed + 0x9e3779b9);
  const vms = new Map<string, SimVm>();
  const pointOwner = new Map<string, string>();
  const sessions = new Map<string, SessionRecord>();
  const pendingByVm = new Map<string, Array<{ session: SessionRecord; part: SessionPart }>>();
  let nextV1Id = 1;

  const specs = fleetSpecs(options, fleetRandom);
  const placement = placementOf(options, fleetRandom);
  const setVm = (spec: SimVmSpec): void => {
    const vm = createVm(spec, { random: fleetRandom, nowMs: now(), placement, mix: options.pointMix });
    for (const point of vm.restorePoints) pointOwner.set(point.id, spec.id);
    vms.set(spec.id, vm);
    pendingByVm.delete(spec.id);
  };
  for (const spec of specs) setVm(spec);

  const settle = (vm: SimVm): SimVm => {
    const pending = pendingByVm.get(vm.spec.id);
    if (!pending) return vm;
    const nowMs = now();
    const stillRunning = pending.filter(({ session, part }) => {
      const { status } = partStatus(session, part, nowMs);
      if (status === 'Running') return true;
      if (status !== 'Error') {
        const removed = new Set(part.pointIds);
        vm.restorePoints = vm.restorePoints.filter((p) => !removed.has(p.id));
      }
      return false;
    });
    if (stillRunning.length === 0) pendingByVm.delete(vm.spec.id);
    else pendingByVm.set(vm.spec.id, stillRunning);
    return vm;
  };

  const drawDuration = (): number => {
    const configured = options.sessionDurationMs ?? 200;
    if (typeof configured === 'number') return configured;
    return sessionRandom.int(configured.min, configured.max);
  };

  const drawOutcome = (): SessionOutcome => {
    const { warning = 0, error = 0 } = options.outcomes ?? {};
    if (warning === 0 && error === 0) return 'Success';
    const draw = sessionRandom.next();
    if (draw < error) return 'Error';
    return draw < error + warning ? 'Warning' : 'Success';
  };

  const makePart = (vm: SimVm, forceStuck: boolean, only?: string): SessionPart => {
    // A bulk delete removes every manual snapshot, immutable and locked ones included (see README).
    const pointIds =
      only === undefined
        ? vm.restorePoints.filter((p) => p.backupDestination === 'ManualSnapshot').map((p) => p.id)
        : [only];
    const { spec } = vm;
    // A VM with nothing to remove finishes at once: there is no work to wait for.
    const nothingToDo = pointIds.length === 0;
    return {
      vmId: spec.id,
      vmName: vm.name,
      pointIds,
      durationMs: nothingToDo ? 0 : (spec.sessionDurationMs ?? drawDuration()),
      outcome: nothingToDo ? 'Success' : (spec.outcome ?? drawOutcome()),
      stuck: !nothingToDo && (forceStuck || spec.stuck === true),
    };
  };

  const record = (
    generation: ApiGeneration,
    type: string,
    purpose: SessionPurpose,
    parts: SessionPart[],
  ): SessionRecord => {
    const session: SessionRecord = {
      id: generation === 'v1' ? String(nextV1Id++) : sessionRandom.uuid(),
      generation,
      type,
      purpose,
      startMs: now(),
      parts,
    };
    sessions.set(session.id, session);
    for (const part of parts) {
      if (part.pointIds.length === 0) continue;
      const pending = pendingByVm.get(part.vmId);
      if (pending) pending.push({ session, part });
      else pendingByVm.set(part.vmId, [{ session, part }]);
    }
    return session;
  };

  const getVm = (id: string): SimVm | undefined => {
    const vm = vms.get(id);
    return vm && settle(vm);
  };

  const findPoint = (pointId: string): { vm: SimVm; point: RestorePoint } | undefined => {
    const owner = pointOwner.get(pointId);
    const vm = owner === undefined ? undefined : getVm(owner);
    const point = vm?.restorePoints.find((p) => p.id === pointId);
    return vm && point && { vm, point };
  };

  return {
    getVm,
    setVm,
    listVms: () => Array.from(vms.values(), settle),
    startDeletion: (generation, vmIds, forceStuck) => {
      const parts = vmIds.map((id) => makePart(getVm(id) as SimVm, forceStuck));
      const type = generation === 'v1' ? 'SnapshotDeletion' : 'ManualSnapshotDeletion';
      return record(generation, type, 'bulk', parts);
    },
    startPointDeletion: (vmId, pointId, forceStuck) => {
      const vm = getVm(vmId) as SimVm;
      const manual = vm.restorePoints.find((p) => p.id === pointId)?.backupDestination === 'ManualSnapshot';
      const type = manual ? 'ManualSnapshotDeletion' : 'SnapshotDeletion';
      return record('v8.1', type, 'point', [makePart(vm, forceStuck, pointId)]);
    },
    addSession: ({ type, vmIds, durationMs = 0, outcome = 'Success' }) => {
      const parts = vmIds.map((vmId) => ({
        vmId,
        vmName: vms.get(vmId)?.name ?? vmId,
        pointIds: [],
        durationMs,
        outcome,
        stuck: false,
      }));
      return record('v8.1', type, 'other', parts);
    },
    findPoint,
    ownerOf: (pointId) => pointOwner.get(pointId),
    removePoint: (pointId) => {
      const found = findPoint(pointId);
      if (found) found.vm.restorePoints = found.vm.restorePoints.filter((p) => p.id !== pointId);
    },
    addRestorePoint: (vmId, spec) => {
      const vm = getVm(vmId);
      if (!vm) throw new Error(`no simulated VM ${vmId}`);
      const point = createPoint(spec, fleetRandom, now());
      vm.restorePoints.push(point);
      pointOwner.set(point.id, vmId);
      return point;
    },
    getSession: (id) => sessions.get(id),
    allSessions: () => Array.from(sessions.values()),
    sessionViews: () => {
      const nowMs = now();
      return Array.from(sessions.values(), (s) => ({
        id: s.id,
        vmIds: s.parts.map((p) => p.vmId),
        status: sessionStatus(s, nowMs).status,
        type: s.type,
        restorePointIds: s.parts.flatMap((p) => p.pointIds),
      }));
    },
  };
}
