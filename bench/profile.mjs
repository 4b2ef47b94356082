// Summarises a V8 .cpuprofile (from the inspector's Profiler domain) for bench/run.mjs --profile.

import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Short, stable label of a call frame: `name (file:line)`. */
function frameLabel(frame) {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} (${shortUrl(frame.url)}:${frame.lineNumber + 1})`;
}

function shortUrl(url) {
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = u.lastIndexOf('/node_modules/');
  if (nm !== -1) return u.slice(nm + '/node_modules/'.length);
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length);
  return u;
}

/** Which part of the stack a frame belongs to: a package, a Rampart layer, Node internals, or V8. */
function area(frame) {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (path.startsWith(`${ROOT}dist/`)) {
    const parts = path.slice(ROOT.length + 'dist/'.length).split('/');
    return `rampart:${parts.length > 1 ? parts.slice(0, -1).join('/') : parts[0]}`;
  }
  return shortUrl(url);
}

/**
 * Self time by function and by area, and inclusive (on-stack) time by function.
 * @param {{ nodes: any[], samples: number[], timeDeltas: number[] }} profile
 * @param {number} [top] rows per table
 */
export function summarizeProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const areas = new Map();
  const inclusive = new Map();
  let total = 0;
  let busy = 0;
  const add = (map, key, v) => map.set(key, (map.get(key) ?? 0) + v);
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the gap before sample i; attribute it to that sample.
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    const node = byId.get(profile.samples[i]);
    total += dt;
    if (node.callFrame.functionName !== '(idle)') busy += dt;
    add(self, frameLabel(node.callFrame), dt);
    add(areas, area(node.callFrame), dt);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const label = frameLabel(byId.get(id).callFrame);
      if (label === '(root)' || seen.has(label)) continue;
      seen.add(label);
      add(inclusive, label, dt);
    }
  }
  const rows = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([label, us]) => ({ label, ms: us / 1000, pctBusy: (100 * us) / busy }));
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    self: rows(self, top),
    areas: rows(areas, top),
    inclusive: rows(inclusive, top * 2),
  };
}

/** Renders a summary as text tables. */
export function formatProfile(summary) {
  const table = (title, rows) =>
    [
      title,
      ...rows.map(
        (r) => `  ${r.pctBusy.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.label}`,
      ),
    ].join('\n');
  return [
    `profile: ${summary.busyMs.toFixed(0)} ms busy of ${summary.totalMs.toFixed(0)} ms sampled (percentages are of busy time)`,
    table('self time by area:', summary.areas),
    table('self time by function:', summary.self),
    table('inclusive time by function (on stack):', summary.inclusive),
  ].join('\n\n');
}
