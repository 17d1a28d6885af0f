/**
 * CPU time a process (all its threads) has used, from /proc/<pid>/stat (Linux): user + system
 * ticks at the kernel's USER_HZ of 100. The benchmark divides a run's CPU by its requests: CPU
 * per request holds still when another job shares the cores, where req/s does not.
 */
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

/** Milliseconds of CPU used so far by `pid` (all threads); undefined where /proc is not available. */
export function processCpuMs(pid: number): number | undefined {
  return cpuMsOfFile(`/proc/${pid}/stat`);
}

/** Milliseconds of CPU used so far by the main thread of `pid` (the event loop: its thread id is the pid). */
export function mainThreadCpuMs(pid: number): number | undefined {
  return cpuMsOfFile(`/proc/${pid}/task/${pid}/stat`);
}

function cpuMsOfFile(path: string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return cpuMsOfStat(stat);
}

/** user + system time of a /proc/<pid>/stat line, in ms (fields 14 and 15; the name, field 2, may hold spaces). */
export function cpuMsOfStat(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / USER_HZ;
}
