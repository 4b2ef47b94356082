/** True when a Content-Type is `application/json`, with at most a UTF-8 charset parameter. */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  if (value === 'application/json') return true; // what nearly every client sends
  const [type = '', ...params] = value.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  for (const param of params) {
    const [name = '', v = ''] = param.split('=');
    if (name.trim().toLowerCase() === 'charset' && v.trim().replace(/"/g, '').toLowerCase() !== 'utf-8')
      return false;
  }
  return true;
}

/** True when an Accept header admits an `application/json` response (a missing header admits anything). */
export function acceptsJson(value: string | null): boolean {
  if (value === null) return true;
  // Fast path for what every MCP client sends: "application/json, text/event-stream".
  if (value.includes('application/json') && !value.includes('q=')) return true;
  for (const range of value.split(',')) {
    const [type = '', ...params] = range.split(';');
    const t = type.trim().toLowerCase();
    if (t !== 'application/json' && t !== 'application/*' && t !== '*/*') continue;
    const q = params.find((p) => p.trim().toLowerCase().startsWith('q='));
    if (q && Number(q.trim().slice(2)) === 0) continue;
    return true;
  }
  return false;
}
