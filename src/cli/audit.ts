import { existsSync, statSync } from 'node:fs';
import { auditLogPath, loadCheckpointKey } from '../audit/open.js';
import { type AuditFilter, followRecords, matchesFilter, tailAuditLog } from '../audit/read.js';
import type { AuditRecord } from '../audit/record.js';
import { auditLogFiles, type VerifyReport, verifyAuditFiles } from '../audit/verify.js';
import { parseCommand } from './args.js';
import { loadCliConfig } from './context.js';
import { CliError, escapeCell, formatCell, printJson, printTable } from './output.js';

export const AUDIT_HELP = `Usage: rampart audit <command> [options]

Commands:
  verify                Check the log end to end: every line's bytes, hash, link and sequence
                        number, and with the key every checkpoint. Names the first record
                        altered, not canonical, removed or reordered, or a keyed log that no
                        checkpoint vouches for; exit 1. Counts the records after the last
                        verified checkpoint (only hash-chained).
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
    const report = await verifyAuditFiles(files, key, { checkpointEvery: config.audit.checkpointEvery });
    if (values.json) printJson({ file, files, ...report });
    else process.stdout.write(verifySummary(report, file, files.length - 1, key !== undefined));
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
      else for (const r of rows) process.stdout.write(`${COLUMNS.map((c) => formatCell(r[c])).join('  ')}\n`);
    };
    const tail = await tailAuditLog(file, filter, count);
    print(tail.records, true);
    if (tail.truncated) {
      process.stderr.write(
        `note: stopped after reading ${Math.round(tail.bytesScanned / 2 ** 20)} MiB of the log with ${tail.records.length} of ${count} records found; older records were not searched\n`,
      );
    }
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

/** What `rampart audit verify` prints (without --json). Details quote the log: escaped like cells. */
function verifySummary(
  report: VerifyReport & { readonly file?: string },
  file: string,
  rotated: number,
  keyed: boolean,
): string {
  const b = report.firstBreak;
  if (!report.ok) {
    const where = `line ${b?.line ?? '?'} of ${escapeCell(report.file ?? file)} (seq ${b?.seq ?? '?'})`;
    const what = b ? `${b.problem}: ${escapeCell(b.detail)}` : 'unknown problem';
    const upTo =
      b?.problem === 'no_checkpoint'
        ? `its hash chain holds up to seq ${report.head.seq}, but no checkpoint vouches for it`
        : `the log verifies up to seq ${report.head.seq}`;
    return `BROKEN at ${where}: ${what}\n${upTo}\n`;
  }
  const after = report.recordsAfterCheckpoint;
  let out = `ok: ${report.records} records, ${report.checkpoints} checkpoints (${report.checkpointsVerified} verified with the key) in ${escapeCell(file)}${rotated > 0 ? ` and ${rotated} rotated file(s)` : ''}\n`;
  out += keyed
    ? `${after} record${after === 1 ? '' : 's'} after the last verified checkpoint${after > 0 ? ': only hash-chained, not keyed' : ''}\n`
    : 'note: no checkpoint key: checkpoints were not checked, and a hash chain alone cannot show a log rewritten whole\n';
  if (report.unterminatedRecord)
    out +=
      'note: the last record has no newline (a crash mid-write?); it was checked, but tail does not show it and the next writer cuts it off\n';
  if (report.tornTail) out += 'note: the last line is torn (a crash mid-write); the log verifies up to it\n';
  return out;
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
