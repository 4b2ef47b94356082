import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import { ConfigError } from '../core/errors.js';
import { defaultSecretSources, resolveSecret } from '../secrets/index.js';
import { createFileOnce, makeDirectoryDurably } from './durable-files.js';
import { openFileSink } from './file-sink.js';
import type { AuditSink } from './sink.js';
import { openStdoutSink } from './stdout-sink.js';

/** Where a configuration's audit log lives. */
export function auditLogPath(config: ResolvedConfig): string {
  return config.audit.file ?? join(config.storage.dataDir, 'audit.log');
}

/**
 * The checkpoint key: from `audit.checkpointKey` (a secret reference), else `<dataDir>/audit.key`,
 * made on first use with 256 random bits and mode 0600. The key stays outside the log, so whoever
 * can rewrite the log cannot forge its checkpoints without it too.
 */
export async function loadCheckpointKey(config: ResolvedConfig): Promise<Buffer> {
  const ref = config.audit.checkpointKey;
  if (ref) {
    const secret = await resolveSecret(ref, defaultSecretSources(), 'audit.checkpointKey');
    const key = Buffer.from(secret.reveal(), 'utf8');
    if (key.length < 32) throw new ConfigError('audit.checkpointKey', 'must be at least 32 bytes');
    return key;
  }
  const path = join(config.storage.dataDir, 'audit.key');
  if (!existsSync(path)) {
    makeDirectoryDurably(config.storage.dataDir, 0o700);
    createFileOnce(path, randomBytes(32).toString('base64url'), 0o600);
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  // Fail closed: a short key (a damaged or emptied file) would let anyone forge checkpoints.
  if (key.length < 32) {
    throw new Error(
      `audit key file ${path} holds ${key.length} bytes, fewer than 32: restore it from a backup, or move it aside to start a new key (logs checkpointed under the old key verify only with it)`,
    );
  }
  return key;
}

/** Opens the sink the configuration asks for, or none when auditing is off. */
export async function openAuditSink(
  config: ResolvedConfig,
  onError: (error: unknown) => void,
): Promise<AuditSink | undefined> {
  const settings = config.audit;
  if (!settings.enabled) return undefined;
  const checkpointKey = await loadCheckpointKey(config);
  if (settings.sink === 'stdout')
    return openStdoutSink({ mode: settings.mode, checkpointKey, checkpointEvery: settings.checkpointEvery });
  return openFileSink({
    path: auditLogPath(config),
    mode: settings.mode,
    checkpointKey,
    checkpointEvery: settings.checkpointEvery,
    checkpointIntervalMs: settings.checkpointIntervalSeconds * 1000,
    flushIntervalMs: settings.flushIntervalMs,
    rotateBytes: settings.rotateMiB > 0 ? Math.round(settings.rotateMiB * 1_048_576) : undefined,
    onError,
  });
}
