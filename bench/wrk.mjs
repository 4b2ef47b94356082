// wrk driver for bench/run.mjs: writes the Lua request script, runs wrk pinned to a CPU, parses its report.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/**
 * Writes a wrk Lua script that sends one fixed POST request.
 * @param {string} file path of the script to write
 * @param {{ headers: Record<string, string>, body: string }} request
 */
export function writeLuaScript(file, request) {
  const lines = ['wrk.method = "POST"', `wrk.body = ${luaString(request.body)}`];
  for (const [name, value] of Object.entries(request.headers)) {
    lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

function luaString(value) {
  // A quoted Lua string: " and \\ escaped, bytes outside printable ASCII as three-digit \\ddd escapes.
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${String(byte).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * Runs `taskset -c <cpu> wrk -t1 -c<connections> -d<seconds>s --timeout 10s --latency -s <script> <url>`.
 * @param {{ url: string, script: string, seconds: number, connections?: number, cpu?: string,
 *   track?: (child: import('node:child_process').ChildProcess) => void }} options
 * @returns {Promise<ReturnType<typeof parseWrk>>}
 */
export function runWrk({ url, script, seconds, connections = 50, cpu = '1', track }) {
  const args = [
    '-c',
    cpu,
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '--latency',
    '-s',
    script,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track?.(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      // wrk reports a broken Lua script on stderr and then goes on sending plain GETs: fail instead.
      if (code !== 0 || err.trim() !== '') {
        reject(new Error(`wrk exited with ${code}: ${err || out}`));
        return;
      }
      try {
        resolve(parseWrk(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`cannot parse wrk latency "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/**
 * Parses wrk's `--latency` report.
 * @param {string} text wrk's stdout
 */
export function parseWrk(text) {
  const grab = (re) => re.exec(text);
  const requests = grab(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)/m);
  const rps = grab(/^Requests\/sec:\s+([\d.]+)/m);
  if (!requests || !rps) throw new Error(`cannot parse wrk output:\n${text}`);
  const latency = {};
  for (const m of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m|h))\s*$/gm)) {
    latency[`p${m[1]}`] = toMs(m[2]);
  }
  const avg = grab(/^\s+Latency\s+([\d.]+(?:us|ms|s|m|h))/m);
  const non2xx = grab(/Non-2xx or 3xx responses:\s+(\d+)/);
  const sock = grab(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: Number(requests[1]),
    seconds: toMs(`${requests[2]}${requests[3]}`) / 1000,
    rps: Number(rps[1]),
    avgMs: avg ? toMs(avg[1]) : undefined,
    p50Ms: latency.p50,
    p75Ms: latency.p75,
    p90Ms: latency.p90,
    p99Ms: latency.p99,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock
      ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    raw: text,
  };
}
