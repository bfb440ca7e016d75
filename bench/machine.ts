/** The machine the figures came from. */
import os from 'node:os';

export interface MachineInfo {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  platform: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: os.totalmem() / 1024 ** 3,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}
