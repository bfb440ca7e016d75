/**
 * The simulator CLI's `--fault <route>:<kind>[=<param>][:<probability>]`, e.g. `v8.1.getVm:status=429:0.2`,
 * `*:latency=50`, `v8.1.deleteRestorePoint:vanish`, `v8.1.deleteManualSnapshots:drop=after:0.1`.
 */
import { ConfigError } from '../../shared/errors';
import { FAULT_KINDS, SIM_ROUTES } from './faults';
import type { FaultKind, FaultRule, SimRoute } from './types';

const FLAG = '--fault';
const STATUSES = [429, 500, 502, 503] as const;

/** Defaults of the kinds that take a parameter: status 503, latency 100 ms, slow 1000 ms, drop before. */
function withParam(rule: FaultRule, param: string | undefined): FaultRule {
  const ms = (fallback: number): number => {
    if (param === undefined) return fallback;
    if (!/^\d+$/.test(param)) throw new ConfigError(FLAG, `${rule.kind}=<ms> needs a whole number of ms`);
    return Number(param);
  };
  switch (rule.kind) {
    case 'status': {
      const status = param === undefined ? 503 : STATUSES.find((s) => String(s) === param);
      if (status === undefined)
        throw new ConfigError(FLAG, `status=<code> must be one of ${STATUSES.join(', ')}`);
      return { ...rule, status };
    }
    case 'latency':
      return { ...rule, latencyMs: ms(100) };
    case 'slow':
      return { ...rule, delayMs: ms(1000) };
    case 'drop':
      if (param !== undefined && param !== 'before' && param !== 'after') {
        throw new ConfigError(FLAG, 'drop=<phase> must be before or after');
      }
      return { ...rule, phase: param ?? 'before' };
    default:
      if (param !== undefined) throw new ConfigError(FLAG, `kind ${rule.kind} takes no parameter`);
      return rule;
  }
}

export function parseFaultArg(text: string): FaultRule {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new ConfigError(FLAG, 'expected <route>:<kind>[=<param>][:<probability>]');
  }
  const [route, kindText, probabilityText] = parts;
  if (route !== '*' && !SIM_ROUTES.includes(route as SimRoute)) {
    throw new ConfigError(FLAG, `unknown route; use * or one of ${SIM_ROUTES.join(', ')}`);
  }
  const [kind, param] = kindText.split('=', 2) as [string, string | undefined];
  if (!FAULT_KINDS.includes(kind as FaultKind)) {
    throw new ConfigError(FLAG, `unknown kind; use one of ${FAULT_KINDS.join(', ')}`);
  }
  const rule = withParam({ route: route as SimRoute | '*', kind: kind as FaultKind }, param);
  if (probabilityText === undefined) return rule;
  const probability = Number(probabilityText);
  if (probabilityText.trim() === '' || !(probability >= 0 && probability <= 1)) {
    throw new ConfigError(FLAG, 'the probability must be between 0 and 1');
  }
  return { ...rule, probability };
}
