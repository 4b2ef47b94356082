import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium, headless, with the flags this sandbox needs (no network beyond loopback). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** An OAuth client's redirect target on loopback: records every URL it is sent to. */
export interface CallbackRecorder {
  readonly url: string;
  readonly received: URL[];
  /** The callback that carried `state`. */
  byState(state: string): URL | undefined;
  close(): Promise<void>;
}

export async function startCallbackRecorder(): Promise<CallbackRecorder> {
  const received: URL[] = [];
  let url = '';
  const server = createServer((req, res) => {
    received.push(new URL(req.url ?? '/', url));
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="done">You may close this window.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    url,
    received,
    byState: (state) => received.find((u) => u.searchParams.get('state') === state),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
