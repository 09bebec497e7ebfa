// Running the real python in-toto 1.3.1 CLIs (Debian package `in-toto`) and our CLI.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PY_VERIFY = '/usr/bin/in-toto-verify';
export const HAVE_PYTHON_INTOTO = existsSync(PY_VERIFY);
export const SKIP = HAVE_PYTHON_INTOTO
  ? false
  : 'python in-toto 1.3.1 is not installed (/usr/bin/in-toto-verify missing): run scripts/install-peers.sh';

const CLI = fileURLToPath(new URL('../../../dist/bin/cnabsec.cjs', import.meta.url));

/** Run a program; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
export function run(file, args, { cwd, input, timeout = 60000, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd, timeout, env: { ...process.env, CI: 'true', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin.end(input);
  });
}

export const ours = (args, opts) => run(process.execPath, [CLI, ...args], opts);
export const py = (tool, args, opts) => run(`/usr/bin/${tool}`, args, opts);
export const python = (code, args, opts) => run('/usr/bin/python3', ['-c', code, ...args], opts);

/** python in-toto-verify through the library, with substitution parameters (the CLI has none). */
export const PY_VERIFY_WITH_PARAMS = `
import sys, json
from in_toto.models.metadata import Metablock
from in_toto import verifylib
from securesystemslib import interface
try:
    layout = Metablock.load(sys.argv[1])
    keys = interface.import_publickeys_from_file(json.loads(sys.argv[2]), json.loads(sys.argv[3]))
    verifylib.in_toto_verify(layout, keys, sys.argv[4], substitution_parameters=json.loads(sys.argv[5]))
except Exception as e:
    print(type(e).__name__, e, file=sys.stderr)
    sys.exit(1)
`;
