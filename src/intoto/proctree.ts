/**
 * Finding and killing everything a command started, without cgroups (Linux `/proc`).
 *
 * A process belongs to a command's box when any of these holds:
 * - it is in the command's process group or session (only when the command was started
 *   `detached`, i.e. in a session of its own);
 * - its environment holds the command's random marker variable (`CNABSEC_EXEC_ID`), which
 *   every descendant inherits unless it replaces its whole environment: this catches children
 *   that left the group with `setsid`, `nohup`, a double fork or a reparenting to init;
 * - its working directory is inside the box directory (inspections: their private copy);
 * - its parent belongs to the box.
 *
 * The box is frozen before it is killed: every member found is stopped (SIGSTOP), the scan is
 * repeated until it finds no new member (a stopped process cannot fork), then all are killed.
 * Only processes of our own user can be inspected and signalled. Not contained: a descendant
 * that calls setsid, replaces its environment and leaves the box directory (e.g.
 * `cd / && setsid env -i sleep 99 &`) before the scan, or one that changes user (setuid).
 * Without `/proc` (macOS, BSD) only the process group is killed.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';

/** The environment variable whose value marks a command's descendants. */
export const BOX_MARKER_VAR = 'CNABSEC_EXEC_ID';

export interface Box {
  /** pid of the command itself. */
  leader: number;
  /** The command was started in a session and process group of its own (pgid = sid = leader). */
  ownGroup: boolean;
  /** Value of BOX_MARKER_VAR in the command's environment. */
  marker: string;
  /** Processes whose working directory is inside this directory belong to the box. */
  dir?: string;
}

interface Stat {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  state: string;
}

/** Parse /proc/<pid>/stat (the command name in parentheses may hold spaces and ')'). */
function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(f[i]);
  return { pid, state: f[0] ?? '', ppid: n(1), pgrp: n(2), session: n(3) };
}

function hasProc(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

function markedByEnv(pid: number, needle: Buffer): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(needle);
  } catch {
    return false;
  }
}

function cwdInside(pid: number, dir: string): boolean {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    return cwd === dir || cwd.startsWith(dir + path.sep);
  } catch {
    return false;
  }
}

/** The live members of the box (zombies excluded), by one scan of /proc. */
export function boxMembers(box: Box): Set<number> {
  const needle = Buffer.from(`${BOX_MARKER_VAR}=${box.marker}`);
  const stats = listPids()
    .filter((pid) => pid !== process.pid)
    .map(readStat)
    .filter((s): s is Stat => s !== undefined && s.state !== 'Z' && s.state !== 'X');
  const members = new Set<number>();
  for (const s of stats) {
    const inGroup = box.ownGroup && (s.pgrp === box.leader || s.session === box.leader);
    if (
      s.pid === box.leader ||
      inGroup ||
      markedByEnv(s.pid, needle) ||
      (box.dir !== undefined && cwdInside(s.pid, box.dir))
    )
      members.add(s.pid);
  }
  // Descendants of members (parent links), to a fixed point.
  for (let grew = true; grew;) {
    grew = false;
    for (const s of stats) {
      if (!members.has(s.pid) && members.has(s.ppid)) {
        members.add(s.pid);
        grew = true;
      }
    }
  }
  members.delete(process.pid);
  return members;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already, or not ours */
  }
}

/** Stop every member (repeating the scan until it finds no new one), then kill them all. */
export function killBox(box: Box, maxRounds = 50): number[] {
  if (box.ownGroup) signal(-box.leader, 'SIGKILL');
  if (!hasProc()) return [];
  const seen = new Set<number>();
  for (let round = 0; round < maxRounds; round++) {
    const fresh = [...boxMembers(box)].filter((p) => !seen.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      seen.add(p);
      signal(p, 'SIGSTOP');
    }
  }
  for (const p of seen) signal(p, 'SIGKILL');
  if (box.ownGroup) signal(-box.leader, 'SIGKILL');
  return [...seen];
}
