// SPDX-License-Identifier: BSD-2-Clause
// Types of the genid client for Node.js.

export interface ClientOptions {
  /** The longest wait for a connection to one address, in ms (1000). */
  connectTimeoutMs?: number;
  /** The longest wait for the server to take a request or send more of a reply, in ms (1000). */
  ioTimeoutMs?: number;
  /** IDs fetched ahead for next(), 0..65536 (0: none). */
  prefetch?: number;
  /** Prefetched IDs older than this are dropped, in ms (1000). */
  prefetchMaxAgeMs?: number;
  /** The servers' epoch in Unix seconds (0). */
  epoch?: number;
}

export interface Fields {
  ts: number;
  zone: number;
  dc: number;
  machine: number;
  bucket: number;
  counter: number;
}

export type FailureKind = 'refused' | 'timeout' | 'closed' | 'protocol' | 'unavailable' | 'resolve' | 'io';

export class Failure {
  address: string;
  kind: FailureKind;
  message: string;
}

export class GenidError extends Error {
  failures: Failure[];
  kind: FailureKind;
  /** IDs a bulk call got before the last server failed: valid, never handed out again. */
  ids: bigint[];
}

export class Client {
  constructor(addresses: string | string[], options?: ClientOptions);
  readonly server: string | null;
  readonly epoch: number;
  next(): Promise<bigint>;
  bulk(n: number): Promise<bigint[]>;
  info(): Promise<Record<string, unknown>>;
  time(id: bigint | string): number;
  close(): Promise<void>;
}

export const ID_MAX: bigint;
export const SIGNED64_MAX: bigint;
export const DEFAULT_PORT: number;
export const DEFAULT_CONNECT_TIMEOUT_MS: number;
export const DEFAULT_IO_TIMEOUT_MS: number;
export const PREFETCH_MAX: number;
export const PREFETCH_MAX_AGE_MS: number;
export function decode(id: bigint | string): Fields;
export function encode(fields: Partial<Fields>): bigint;
export function unixTime(id: bigint | string, epoch?: number): number;
export function idTime(id: bigint | string, epoch?: number): Date;
export function span(start: number, end: number, epoch?: number): [bigint, bigint];
export function parseId(text: string): bigint;
export function parseAddress(text: string): { host: string; port: number };
export function formatAddress(host: string, port: number): string;
