import net from 'node:net';
import { ConfigError } from '../errors';

/** 127.0.0.0/8, ::1 and localhost: the only hosts that may be reached over plain http://. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/**
 * Validates an appliance (or vault) base URL: https://, or http:// for a loopback host only.
 * The error names `setting` and never echoes the value, which may embed credentials.
 */
export function parseApplianceUrl(raw: string, setting = 'VEEAM_URL'): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(setting, 'is not an absolute URL (expected https://<appliance host>)');
  }
  if (url.username || url.password) {
    throw new ConfigError(setting, 'must not contain credentials');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:') {
    throw new ConfigError(setting, 'must use https:// (plain http:// is allowed only for loopback hosts)');
  }
  throw new ConfigError(setting, `has unsupported scheme ${url.protocol} (expected https://)`);
}
