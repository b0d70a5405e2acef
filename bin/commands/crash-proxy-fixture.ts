/**
 * Pieces of the crash-proxy test of `tsmlab serve`: a `tsmlab sim` child process (the cards live in their own
 * process, so they outlive the TSM) and a WebSocket proxy between the TSM and it that sees every command and can
 * hold the card's answer to a chosen one: the card has executed it, the answer never reaches the TSM, and the
 * test kills the TSM at that moment. Listens on 127.0.0.1 only.
 */
import type { ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { startTsmlab } from './child-fixture.ts';


/** Starts `tsmlab sim --port 0 --fleet FILE`; resolves with its ws://127.0.0.1:PORT base once it says ready. */
export async function startSim(fleetFile: string, children: ChildProcess[]): Promise<{ url: string; child: ChildProcess }> {
  const { child, match } = await startTsmlab(['sim', '--port', '0', '--fleet', fleetFile], children, /(ws:\/\/127\.0\.0\.1:\d+)\/se\//, /^ready$/m);
  return { url: match[1], child };
}

interface Hold {
  matches(command: Uint8Array): boolean;
  fire(): void;
}

/** A WebSocket proxy for the SE access protocol that can hold (and drop) the answer to one chosen command. */
export class CrashProxy {
  /** Every command APDU that went through, in order. */
  readonly commands: Uint8Array[] = [];
  private hold?: Hold;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(upstream: string): Promise<CrashProxy> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const proxy = new CrashProxy(wss, `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    wss.on('connection', (client, req) => proxy.connect(client, `${upstream}${req.url ?? '/'}`));
    return proxy;
  }

  /**
   * Once the card has answered the first command `matches` accepts, runs `fire` (the test kills the TSM there)
   * and drops the answer, so the TSM never learns that the card executed it.
   */
  holdAnswerTo(matches: (command: Uint8Array) => boolean, fire: () => void): void {
    this.hold = { matches, fire };
  }

  get holding(): boolean {
    return this.hold !== undefined;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private connect(client: WebSocket, target: string): void {
    const up = new WebSocket(target);
    const queued: [RawData, boolean][] = [];
    /** Commands sent and not answered yet, oldest first (the protocol answers every frame in order). */
    const inFlight: (Uint8Array | undefined)[] = [];
    const toUpstream = (data: RawData, binary: boolean) => {
      if (up.readyState === WebSocket.OPEN) up.send(data, { binary });
      else queued.push([data, binary]);
    };
    client.on('message', (data, binary) => {
      const bytes = binary ? new Uint8Array(data as Buffer) : undefined;
      if (bytes) this.commands.push(bytes.slice());
      inFlight.push(bytes);
      toUpstream(data, binary);
    });
    up.on('open', () => {
      for (const [d, b] of queued.splice(0)) up.send(d, { binary: b });
    });
    up.on('message', (data, binary) => {
      const command = inFlight.shift();
      const h = this.hold;
      if (command && h?.matches(command)) {
        this.hold = undefined;
        h.fire();
        return;
      }
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    const closeBoth = () => {
      if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close();
      if (up.readyState === WebSocket.OPEN) up.close();
      else if (up.readyState === WebSocket.CONNECTING) up.terminate();
    };
    client.on('close', closeBoth);
    client.on('error', closeBoth);
    up.on('close', closeBoth);
    up.on('error', closeBoth);
  }
}
