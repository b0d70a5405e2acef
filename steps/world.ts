/**
 * The World of one scenario: a fleet, its simulated cards, a central TSM serving its SP API over real HTTP, and one
 * SP TSM per service provider talking to it. Steps call into these; no logic lives here beyond wiring.
 */
import { setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import { defaultFleet, keySetOf, loadFleet, type Fleet } from '../profiles/index.ts';
import { CentralTsm, ManualClock, SpClient, SpTsm, startSpApi, type Answer, type BeginConversationResponse, type ServiceRecord, type SpApiServer, type SpResult } from '../tsm/index.ts';
import { HarnessError, subscribe, type TraceEvent } from '../trace/index.ts';
import type { CardChannel } from '../drivers/index.ts';
import { MnoNetworks } from '../simulator/index.ts';
import { fromHex, type CardView, type KeySet, type OpenedSecureChannel } from '../gp/index.ts';
import { type Issuer, CardTrouble, newRealCardMemory, openCardAccess, type CardAccess } from '../harness/index.ts';

/** What this run (this process: one Cucumber worker) remembers of its real cards across scenarios. */
const runCardMemory = newRealCardMemory();

export class TsmWorld extends World {
  fleet!: Fleet;
  cards!: CardAccess;
  /** The central TSM, given simulated operator networks (gateway) the routing steps switch up and down. */
  tsm!: CentralTsm<MnoNetworks>;
  clock = new ManualClock(Date.now());
  api!: SpApiServer;
  private clients = new Map<string, SpClient>();
  /** The last answer of the central TSM, for `the response …` steps. */
  last?: SpResult;
  seId?: string;
  conversationId?: string;
  /** Every command that went to a card in this scenario, as the driver saw it on the wire. */
  readonly commandsSent: Extract<TraceEvent, { kind: 'apdu.command' }>[] = [];
  /** Where commandsSent stood when the conversation ended (or a refused script was sent). */
  commandsAtEnd?: number;
  /** The last successful BeginConversation answer. */
  conversation?: BeginConversationResponse;
  conversationServiceId?: string;
  /** The cardholder data the SP last personalized, as sent. */
  cardholderData?: Uint8Array;
  /** The SP's secure channel to its SD, open in the current conversation. */
  spChannel?: OpenedSecureChannel;
  /** Key sets each SP holds for its SD, by SD AID (the fleet's to start with, then rotated ones). */
  readonly spKeys = new Map<string, KeySet>();
  /** The key set an SP rotated away from, by SD AID. */
  readonly previousSpKeys = new Map<string, KeySet>();
  /** Why a card failure left this scenario undecided (a pulled card, a closed channel), if one did. */
  readonly trouble = new CardTrouble();
  /** The running scenario's tags (set by a Before hook): the real-card guard's destructive-command interlock reads them. */
  scenarioTags: readonly string[] = [];
  private unsubscribe?: () => void;

  constructor(options: IWorldOptions) {
    super(options);
  }

  async start(): Promise<void> {
    if (this.tsm) throw new Error('the scenario already has its fleet');
    this.unsubscribe = subscribe((e) => {
      if (e.kind === 'apdu.command') this.commandsSent.push(e);
    });
    const file = process.env.TSMLAB_FLEET;
    this.fleet = file ? loadFleet(file) : defaultFleet();
    this.cards = await openCardAccess(process.env.TSMLAB_TARGET ?? 'sim', this.fleet, { scenarioTags: this.scenarioTags, memory: runCardMemory });
    this.tsm = new CentralTsm({
      fleet: this.fleet,
      channels: (seId) => this.trouble.open(() => this.cards.channel(seId)),
      gateway: new MnoNetworks(this.fleet.mnos),
      clock: this.clock,
    });
    this.api = await startSpApi(this.tsm, { port: 0 });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.api?.close();
    // Releases the TSM's card channels (a PC/SC reader is held exclusively) before the cards leave their readers.
    await this.tsm?.close();
    await this.cards?.restore?.();
    await this.cards?.close();
  }

  spTsm(name: string): SpTsm {
    return new SpTsm(this.sp(name));
  }

  /** The key set the SP currently holds for the SD of a service. */
  keysFor(serviceId: string): KeySet {
    const sdAid = this.serviceRecord(serviceId).sdAid;
    let keys = this.spKeys.get(sdAid);
    if (!keys) {
      const spec = this.fleet.ses.flatMap((se) => se.services ?? []).find((s) => s.id === serviceId)?.spKeys;
      if (!spec) throw new Error(`the fleet gives the SP no keys for the SD of ${serviceId}`);
      keys = keySetOf(spec);
      this.spKeys.set(sdAid, keys);
    }
    return keys;
  }

  /** The service the current conversation is about. */
  conversationService(): ServiceRecord {
    if (!this.conversationServiceId) throw new Error('no conversation was begun');
    return this.serviceRecord(this.conversationServiceId);
  }

  /**
   * What the simulated card of an SE holds inside (stored data, contactless state, authentication counter): only a
   * card in this process shows that. Scenarios that need it carry @needs:card-internals.
   */
  card(seId = this.seId) {
    if (!seId) throw new Error('no secure element in this scenario yet');
    if (this.cards.realCard) {
      throw new HarnessError(`cannot look inside ${seId}: ${this.cards.realCard}, not a simulated card in this process (such scenarios need @needs:card-internals)`);
    }
    const card = this.cards.cards.get(seId);
    if (!card) throw new Error(`no simulated card ${seId}`);
    return card.inspect();
  }

  /** What an SE's card holds as GET STATUS / GET DATA through its ISD show it: on every target, real cards included. */
  view(seId = this.seId): Promise<CardView> {
    if (!seId) throw new Error('no secure element in this scenario yet');
    return this.cards.view(seId);
  }

  /** A channel for the harness's own commands to an SE's card (issuer actions, key proofs). */
  harness(seId: string): Promise<CardChannel> {
    return this.trouble.open(() => this.cards.harnessChannel(seId));
  }

  /** Runs `work` on a harness channel to an SE's card, closing it after. */
  async withHarness<T>(seId: string, work: (channel: CardChannel) => Promise<T>): Promise<T> {
    const channel = await this.harness(seId);
    try {
      return await work(channel);
    } finally {
      await channel.close();
    }
  }

  /** The issuer of an SE's card: its ISD and keys (the fleet's, or the card profile's for a real card). */
  issuer(seId: string): Issuer {
    return this.cards.issuer(seId);
  }

  sp(name: string): SpClient {
    let c = this.clients.get(name);
    if (!c) {
      c = new SpClient({ baseUrl: this.api.url, serviceProvider: name });
      this.clients.set(name, c);
    }
    return c;
  }

  /** The fleet's record of a service (which SE, SD and instance). */
  serviceRecord(serviceId: string): Readonly<ServiceRecord> {
    const all = this.fleet.ses.flatMap((se) => this.tsm.operator.services(se.seId));
    const s = all.find((x) => x.id === serviceId);
    if (!s) throw new Error(`the fleet has no service "${serviceId}" (it has ${all.map((x) => x.id).join(', ')})`);
    return s;
  }

  lastBody(): Answer & Record<string, unknown> {
    if (!this.last) throw new Error('no request has been sent to the central TSM yet');
    return this.last.body as Answer & Record<string, unknown>;
  }

  remember(result: SpResult): SpResult {
    this.last = result;
    return result;
  }
}

setWorldConstructor(TsmWorld);
