/**
 * One unary Search call on a pooled grpc-js channel, through a generic grpc-js client bound to
 * that very channel (`channelOverride`): the same socket, subchannel state, keepalive, message
 * size limits and flow-control window as the weaviate-client lent with it. What grpc-js gives
 * for free this way: `grpc-timeout` from the deadline, RST_STREAM on cancel, trailers-only
 * error replies, GOAWAY handling and reconnects by the channel.
 *
 * Errors are made as weaviate-client 3.14 makes them (grpc/base.js `sendWithTimeout`), so the
 * task runner classifies both paths alike: a gRPC status becomes WeaviateQueryError with
 * nice-grpc's message (`/weaviate.v1.Weaviate/Search INVALID_ARGUMENT: ...`), PERMISSION_DENIED
 * becomes WeaviateInsufficientPermissionsError; the caller's abort rejects with its reason, and
 * the engine's own deadline passing at the server or in grpc-js is DeadlineExceededError.
 */
import { Client, status as Status, type Channel, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { DeadlineExceededError } from '../errors.ts';
import { classifyStatus, noteCallFailure } from '../weaviate/failure.ts';
import { codecs, type SearchRequest } from './codecs.ts';
import { encodeSearchRequest } from './request.ts';

export const SEARCH_METHOD = '/weaviate.v1.Weaviate/Search';

const STATUS_NAME: Record<number, string> = Object.fromEntries(Object.entries(Status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

/** Replies stay bytes here: the caller decodes them straight into its result (reply-decoder.ts). */
const keepBytes = (bytes: Buffer): Buffer => bytes;

export interface SearchCallOptions {
  /** Fires when the caller gives up (the engine's deadline timer or a cancel): the stream is reset. */
  signal?: AbortSignal;
  /** Absolute deadline (epoch ms); sent to Weaviate as `grpc-timeout`. */
  deadlineAt: number;
  /** Whether `deadlineAt` is the engine's request deadline (then its passing is DeadlineExceededError). */
  engineDeadline: boolean;
}

type GrpcCall = ReturnType<Channel['createCall']>;

/**
 * Unary Search calls on one pooled channel. `call` (the default) drives grpc-js's own call
 * object (`channel.createCall`: the layer its generic Client sits on) with the request bytes
 * and a three-callback listener, skipping the Client's interceptor stack, its EventEmitter and
 * the stack trace it captures per call; `client` goes through `Client.makeUnaryRequest`. Both
 * keep everything below: deadline (grpc-timeout), cancellation (RST_STREAM), framing,
 * message size limits, trailers-only status, the channel's reconnects.
 */
export class SearchCaller {
  readonly #channel: Channel;
  readonly #client: Client;
  readonly #metadata: Metadata;
  readonly #mode: 'call' | 'client';

  constructor(channel: Channel, metadata: Metadata, mode: 'call' | 'client' = 'call') {
    this.#channel = channel;
    // The target and credentials are ignored when a channel is given; the channel has its own.
    this.#client = new Client('unused', null as never, { channelOverride: channel });
    this.#metadata = metadata; // grpc-js clones call metadata before adding to it, so one object serves every call
    this.#mode = mode;
  }

  search(request: SearchRequest, o: SearchCallOptions): Promise<Buffer> {
    return this.#mode === 'call' ? this.#viaCall(request, o) : this.#viaClient(request, o);
  }

  #viaCall(request: SearchRequest, o: SearchCallOptions): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const { signal } = o;
      if (signal?.aborted) return reject(signal.reason as Error);
      const bytes = encodeSearchRequest(request);
      let reply: Buffer | undefined;
      let call: GrpcCall | undefined = undefined;
      const onAbort = () => {
        call?.cancelWithStatus(Status.CANCELLED, 'Cancelled by the caller');
        reject(signal!.reason as Error);
      };
      try {
        call = this.#channel.createCall(SEARCH_METHOD, o.deadlineAt, undefined, null, undefined);
      } catch (error) {
        // A closed channel throws here ("Channel has been shut down"); weaviate-client wraps it the same way.
        const closed = new codecs.WeaviateQueryError((error as Error).message, 'gRPC');
        noteCallFailure(closed, { kind: 'transport', code: undefined });
        return reject(closed);
      }
      call.start(this.#metadata, {
        onReceiveMetadata() {},
        onReceiveMessage(message: Buffer) {
          reply ??= message;
        },
        onReceiveStatus(status: { code: number; details: string; metadata: Metadata }) {
          signal?.removeEventListener('abort', onAbort);
          if (status.code === Status.OK && reply) resolve(reply);
          else if (status.code === Status.OK) reject(toError({ code: Status.INTERNAL, details: 'No message received', metadata: status.metadata } as ServiceError, o));
          else reject(toError(status as ServiceError, o));
        },
      });
      call.startRead();
      call.sendMessageWithContext({}, bytes);
      call.halfClose();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #viaClient(request: SearchRequest, o: SearchCallOptions): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const { signal } = o;
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        call.cancel();
        reject(signal!.reason as Error);
      };
      const call = this.#client.makeUnaryRequest<SearchRequest, Buffer>(
        SEARCH_METHOD,
        encodeSearchRequest,
        keepBytes,
        request,
        this.#metadata,
        { deadline: o.deadlineAt },
        (error: ServiceError | null, reply?: Buffer) => {
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(toError(error, o));
          else resolve(reply!);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The error weaviate-client would raise, classified for the one failure classifier (src/weaviate/failure.ts). */
function toError(error: Pick<ServiceError, 'code' | 'details'>, o: SearchCallOptions): Error {
  // Weaviate (grpc-go) resets a stream whose grpc-timeout ran out with RST_STREAM CANCEL, which
  // grpc-js reports as CANCELLED "Call cancelled"; on a busy thread that can be read before our
  // own deadline timer runs (seen in engine-lifecycle's 10,000-query test as WEX_QUERY_FAILED).
  // Past the engine's deadline it is that deadline, and says nothing against the connection.
  if (o.engineDeadline && error.code === Status.CANCELLED && Date.now() >= o.deadlineAt) {
    const late = new DeadlineExceededError('Deadline passed while running on a worker (the server ended the call at the deadline)', { phase: 'running', grpcCode: 'CANCELLED' });
    noteCallFailure(late, { kind: 'cancelled', code: error.code });
    return late;
  }
  const made = makeError(error, o);
  noteCallFailure(made, classifyStatus(error.code, o.signal));
  return made;
}

function makeError(error: Pick<ServiceError, 'code' | 'details'>, o: SearchCallOptions): Error {
  if (error.code === Status.DEADLINE_EXCEEDED && o.engineDeadline) {
    return new DeadlineExceededError('Deadline passed while running on a worker (at Weaviate or in transit)', { phase: 'running', grpcCode: 'DEADLINE_EXCEEDED' });
  }
  const message = `${SEARCH_METHOD} ${STATUS_NAME[error.code] ?? error.code}: ${error.details}`;
  if (error.code === Status.PERMISSION_DENIED) return new codecs.WeaviateInsufficientPermissionsError(7, message);
  if (error.code === Status.DEADLINE_EXCEEDED) return new codecs.WeaviateQueryError(`timed out: ${message}`, 'gRPC');
  return new codecs.WeaviateQueryError(message, 'gRPC');
}
