/** Where a command writes: `out` is the result (stdout), `err` diagnostics and errors (stderr). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const defaultIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** `--json` output: pretty JSON, BigInts as numbers. */
export function printJson(io: Pick<Io, 'out'>, value: unknown): void {
  io.out(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`);
}
