// Preload for crash tests (`node --import ./test/helpers/kill-at-rename.js cnabsec.cjs ...`):
// counts every rename (fs.rename, fs.renameSync, fs.promises.rename) of the process. With
// KILL_AT_RENAME=N it kills the process with SIGKILL just before the Nth rename is done (so
// renames 1..N-1 happened); with RENAME_LOG=<file> it appends "<pid> <target path>" per
// rename done. Nothing else changes.
import fs from 'node:fs';

const killAt = Number(process.env.KILL_AT_RENAME ?? '0');
const log = process.env.RENAME_LOG;
let count = 0;

function before(to) {
  count++;
  if (count === killAt) process.kill(process.pid, 'SIGKILL');
  if (log !== undefined) fs.appendFileSync(log, `${process.pid} ${String(to)}\n`);
}

const { rename, renameSync } = fs;
const promiseRename = fs.promises.rename;
fs.rename = (from, to, cb) => {
  before(to);
  return rename(from, to, cb);
};
fs.renameSync = (from, to) => {
  before(to);
  return renameSync(from, to);
};
fs.promises.rename = (from, to) => {
  before(to);
  return promiseRename(from, to);
};
