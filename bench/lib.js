// Shared bench helpers: run a process and measure its wall time and peak RSS (from /proc),
// medians, and table printing. Benchmarks print figures; they never assert.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Run `cmd args`; resolves {ms, status, stdout, stderr, rssKb} (peak RSS polled from /proc VmHWM). */
export function measure(cmd, args, { env = process.env, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let rssKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) rssKb = Math.max(rssKb, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 10);
    child.on('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
    child.on('close', (status) => {
      clearInterval(poll);
      resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, status, stdout, stderr, rssKb });
    });
  });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Print rows (arrays) as an aligned text table under a header row. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(all[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of all.slice(1)) console.log(line(r));
}
