import { userInfo } from 'node:os';
import type { ResolvedConfig } from '../config/index.js';
import { openFileSink } from './file-sink.js';
import { auditLogPath, loadCheckpointKey } from './open.js';
import type { AuditEvent } from './record.js';

/**
 * Appends an admin action (CLI, demo bootstrap) to the audit log the server writes, under the
 * same inter-process lock and into the same chain. The actor is the operating-system user.
 * Does nothing when the configuration turns auditing off or sends it to stdout.
 */
export async function recordAdminAction(
  config: ResolvedConfig,
  event: AuditEvent,
  detail: Record<string, unknown>,
): Promise<void> {
  if (!config.audit.enabled || config.audit.sink !== 'file') return;
  const sink = await openFileSink({
    path: auditLogPath(config),
    mode: 'durable',
    checkpointKey: await loadCheckpointKey(config),
    checkpointEvery: config.audit.checkpointEvery,
    rotateBytes: config.audit.rotateMiB > 0 ? Math.round(config.audit.rotateMiB * 1_048_576) : undefined,
  });
  try {
    await sink.append({
      event,
      outcome: 'allow',
      principal: { iss: 'local', sub: actor(), auth: 'cli' },
      detail,
    });
  } finally {
    await sink.close();
  }
}

function actor(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
