// Type declarations for @intrustd/shim (hand-written; the JavaScript carries JSDoc too).

/** Where the link's packets go, from the selected ICE candidate pair. */
export type LinkPath = 'direct-lan' | 'direct-nat' | 'relay' | 'unknown';

export interface LinkInfo {
  /** Canonical appliance ID (8 groups of 7, upper case). */
  applianceId: string;
  /** The appliance's Ed25519 public key, base64url without padding. */
  publicKey: string;
  /** Always true: a link is only up after its answer was verified. */
  verified: true;
  path: LinkPath;
  /** When the link came up, milliseconds since the epoch. */
  connectedAt: number;
  /** Milliseconds from the start of set-up (flock connect) to the link being up. */
  setupMs: number;
}

export interface InstallOptions {
  /** Flock base URL, e.g. `ws://host:port`; the shim connects to `${flock}/client`. */
  flock: string;
  /** Appliance ID in any parseable form. */
  appliance: string;
  /** Same-origin path prefixes routed to an app: `{ '/hello/': 'hello' }` (prefix replaced by `/`). */
  apps?: Record<string, string>;
  /** ICE servers; default: those the flock sends in `hello`. */
  iceServers?: RTCIceServer[];
  /** Link set-up timeout, default 10000 ms. */
  connectTimeoutMs?: number;
  /** Pick up a share link's `#intrustd-token=` from the page URL (and remove it from the address bar); default true. */
  tokenFromUrl?: boolean;
  /** Where the device key and sealed secrets are kept; default IndexedDB (memory where there is none). */
  store?: { get(key: string): Promise<any>; put(key: string, value: any): Promise<void>; delete(key: string): Promise<void> };
}

/** Who the page is to the appliance (spec/access.md, the session description). */
export interface SessionInfo {
  appliance: string;
  link: string;
  /** Whether the appliance has an owner; until then only its public apps open. */
  claimed: boolean;
  persona: { name: string; displayName: string; role: 'owner' | 'admin' | 'member' } | null;
  session: { id: string; expires: string } | null;
  tokens: Array<{ id: string; label: string; expires?: string; permissions: string[] }>;
  permissions: string[];
}

export interface StatusDetail {
  state: 'connecting' | 'up' | 'down';
  info: LinkInfo | null;
  error: Error | null;
}

export interface IntrustdHandle extends EventTarget {
  /** Bring the link up, or return the info of the link that is up. */
  link(): Promise<LinkInfo>;
  /** LinkInfo while a link is up, else null. */
  readonly status: LinkInfo | null;
  addEventListener(type: 'status', listener: (ev: CustomEvent<StatusDetail>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: 'session', listener: (ev: CustomEvent<SessionInfo>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
  /** Restore the original fetch, XMLHttpRequest and WebSocket and close the link. */
  uninstall(): void;
  /** Log in; the session is bound to this browser's device key. Rejects with IntrustdAccessError. */
  login(persona: string, password: string, options?: { label?: string }): Promise<SessionInfo>;
  /** Claim a new appliance with the code it printed; `persona` becomes its owner, logged in. */
  claim(code: string, persona: string, password: string, options?: { displayName?: string; label?: string }): Promise<SessionInfo>;
  /** End the session on the appliance and forget it here. */
  logout(): Promise<SessionInfo>;
  /** Ask the appliance who this page is now. */
  session(): Promise<SessionInfo>;
  /** The logged-in persona's sessions (its browsers). */
  sessions(): Promise<Array<{ id: string; label: string; created: string; lastUsed: string; expires: string; current: boolean }>>;
  /** End one of them (a lost phone); resolves with the rest. */
  endSession(id: string): Promise<Array<{ id: string; label: string; created: string; lastUsed: string; expires: string; current: boolean }>>;
  /** The logged-in persona's picture (a data: URL), or null. */
  avatar(): Promise<string | null>;
  /** The appliance's control API through the link, for its owner and admins: admin('GET', '/v1/status'). */
  admin(method: string, path: string, body?: unknown): Promise<any>;
  /** The last SessionInfo the shim learned, or null. */
  readonly currentSession: SessionInfo | null;
  /** Present a token (a share link's secret) and remember it for later links. */
  presentToken(token: string): Promise<SessionInfo>;
  /** Show the login dialog (`<dialog class="intrustd-login">`); null if cancelled. */
  showLogin(options?: { title?: string; persona?: string; claim?: boolean }): Promise<SessionInfo | null>;
}

/** The appliance refused a login, session or token. */
export class IntrustdAccessError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | null;
}

/**
 * Patch `fetch`, `XMLHttpRequest` and `WebSocket` so that `intrustd+app://<app>/...` URLs and
 * configured prefixes go over a verified link to the appliance.
 * @throws {InvalidApplianceIdError} for an appliance that is not an ID
 * @throws {TypeError} for missing or malformed options
 */
export function install(options: InstallOptions): IntrustdHandle;

export interface ConnectOptions {
  flock: string;
  appliance: string;
  iceServers?: RTCIceServer[];
  connectTimeoutMs?: number;
  /** The WebSocket class used for the flock (default: globalThis.WebSocket). */
  WebSocket?: typeof WebSocket;
  /** The RTCPeerConnection class (default: globalThis.RTCPeerConnection). */
  RTCPeerConnection?: typeof RTCPeerConnection;
}

/** One exchange's byte stream over a data channel (channels.md framing). */
export interface Stream {
  readonly label: string;
  readonly opened: Promise<void>;
  readonly bufferedAmount: number;
  setSink(sink: { data(bytes: Uint8Array): void; end(): void; error(err: Error): void }): void;
  write(bytes: BufferSource): Promise<void>;
  end(): Promise<void>;
  reset(reason?: string): void;
  close(): void;
}

export declare class Link extends EventTarget {
  constructor(options: ConnectOptions);
  readonly applianceId: string;
  readonly state: 'connecting' | 'up' | 'down';
  readonly info: LinkInfo | null;
  readonly error: Error | null;
  /** Resolves when the answer is verified and the link is up. */
  readonly ready: Promise<LinkInfo>;
  /** A fresh data channel `http/<app-id>`, protocol `intrustd/1`, once open. */
  openStream(appId: string): Promise<Stream>;
  refreshPath(): Promise<LinkInfo | null>;
  close(reason?: string): void;
}

/** Start a link without patching globals; await `link.ready`. */
export function connect(options: ConnectOptions): Link;

/** Canonical form of an appliance ID typed in any accepted way. @throws {InvalidApplianceIdError} */
export function parseApplianceId(text: string): string;
export function isApplianceId(text: string): boolean;
/** The appliance ID of a 32-byte Ed25519 public key (raw bytes or base64url). */
export function applianceIdFromPublicKey(publicKey: Uint8Array | ArrayBuffer | string): Promise<string>;
export function classifyPath(localType?: string, remoteType?: string, remoteAddress?: string): LinkPath;

/** identity.md signing input: u32 big-endian length + bytes for the context and each field. */
export function signingInput(context: string, fields: Array<string | Uint8Array | ArrayBuffer>): Uint8Array;
/** Verify a flock answer; resolves with the public key. @throws {IntrustdVerificationError} */
export function verifyAnswer(answer: {
  expectedId: string; publicKey: string; signature: string; offerSdp: string; answerSdp: string;
}): Promise<Uint8Array>;

export class IntrustdError extends Error {}
export class InvalidApplianceIdError extends IntrustdError {}
export class IntrustdVerificationError extends IntrustdError {}
export class IntrustdLinkError extends IntrustdError {
  constructor(message: string, code?: string, options?: ErrorOptions);
  /** A flock error code (`appliance-offline`, ...) or a local one (`timeout`, `peer-failed`, ...). */
  code: string;
}
export class FrameError extends IntrustdError {}
export class StreamError extends IntrustdError {}
export class HttpParseError extends IntrustdError {}
export class WsProtocolError extends IntrustdError {
  constructor(message: string, closeCode?: number);
  closeCode: number;
}
