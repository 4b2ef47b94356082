import { existsSync, statSync } from 'node:fs';
import { auditLogPath, loadCheckpointKey } from '../audit/open.js';
import { type AuditFilter, followRecords, matchesFilter, tailRecords } from '../audit/read.js';
import type { AuditRecord } from '../audit/record.js';
import { auditLogFiles, verifyAuditFiles } from '../audit/verify.js';
import { parseCommand } from './args.js';
import { loadCliConfig } from './context.js';
import { CliError, printJson, printTable } from './output.js';

export const AUDIT_HELP = `Usage: rampart audit <command> [options]

Commands:
  verify                Check the log end to end: every hash, link, sequence number and keyed
                        checkpoint. Names the first record altered, removed or reordered; exit 1.
  tail                  Show the latest records as a table (or JSON lines with --json).

Options:
  --file FILE           The audit log (default: audit.file, or <dataDir>/audit.log)
  --config FILE         Configuration file (default ./rampart.yaml if present)
  --json                Machine-readable output
tail options:
  -n, --lines N         How many records (default 20)
  -f, --follow          Keep printing records as they are written
  --principal P         Only this subject (or issuer|subject)
  --tool T              Only calls of this tool
  --outcome O           Only allow, deny or error
  --event E             Only this event (auth.failure, tool.call, …)
`;

const COLUMNS = ['seq', 'ts', 'event', 'outcome', 'reason', 'principal', 'tool', 'ip', 'ms'];

/** `rampart audit …` */
export async function auditCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(
    argv,
    {
      file: { type: 'string' },
      lines: { type: 'string', short: 'n' },
      follow: { type: 'boolean', short: 'f', default: false },
      principal: { type: 'string' },
      tool: { type: 'string' },
      outcome: { type: 'string' },
      event: { type: 'string' },
    },
    AUDIT_HELP,
  );
  if (!parsed) return;
  const { command, values } = parsed;
  const config = loadCliConfig(values.config);
  const file = values.file ?? auditLogPath(config);
  if (!existsSync(file)) throw new CliError(`no audit log at ${file}`);

  if (command === 'verify') {
    const key =
      config.audit.checkpointKey || existsSync(`${config.storage.dataDir}/audit.key`)
        ? await loadCheckpointKey(config)
        : undefined;
    const files = auditLogFiles(file);
    const report = await verifyAuditFiles(files, key);
    if (values.json) printJson({ file, files, ...report });
    else if (report.ok) {
      process.stdout.write(
        `ok: ${report.records} records, ${report.checkpoints} checkpoints (${report.checkpointsVerified} verified with the key) in ${file}${files.length > 1 ? ` and ${files.length - 1} rotated file(s)` : ''}\n`,
      );
      if (report.tornTail)
        process.stdout.write('note: the last line is torn (a crash mid-write); the log verifies up to it\n');
    } else {
      const b = report.firstBreak;
      process.stdout.write(
        `BROKEN at line ${b?.line} of ${report.file ?? file} (seq ${b?.seq ?? '?'}): ${b?.problem}: ${b?.detail}\n` +
          `the log verifies up to seq ${report.head.seq}\n`,
      );
    }
    if (!report.ok) process.exitCode = 1;
    return;
  }
  if (command === 'tail') {
    const count = values.lines === undefined ? 20 : Number(values.lines);
    if (!Number.isInteger(count) || count < 0) throw new CliError('--lines must be a whole number', 2);
    if (values.outcome && !['allow', 'deny', 'error'].includes(values.outcome)) {
      throw new CliError('--outcome must be allow, deny or error', 2);
    }
    const filter: AuditFilter = {
      principal: values.principal,
      tool: values.tool,
      outcome: values.outcome,
      event: values.event,
    };
    const print = (records: AuditRecord[], header: boolean) => {
      if (values.json) {
        for (const r of records) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const rows = records.map(row);
      if (header) printTable(rows, COLUMNS);
      else
        for (const r of rows) process.stdout.write(`${COLUMNS.map((c) => String(r[c] ?? '-')).join('  ')}\n`);
    };
    print(await tailRecords(file, filter, count), true);
    if (values.follow) {
      const stop = followRecords(file, statSync(file).size, (records) =>
        print(
          records.filter((r) => r.event !== 'checkpoint' && matchesFilter(r, filter)),
          false,
        ),
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => {
          stop();
          resolve();
        });
        process.once('SIGTERM', () => {
          stop();
          resolve();
        });
      });
    }
    return;
  }
  throw new CliError(`unknown audit command "${command}" (see rampart audit --help)`, 2);
}

function row(r: AuditRecord): Record<string, unknown> {
  return {
    seq: r.seq,
    ts: r.ts,
    event: r.event,
    outcome: r.outcome,
    reason: r.reason,
    principal: r.principal ? r.principal.sub : undefined,
    tool: r.tool,
    ip: r.ip,
    ms: r.durationMs,
  };
}
