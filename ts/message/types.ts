/** discv5 messages (spec §6). Request ids are opaque byte strings of 0 to 8 bytes, echoed exactly. */

export const MessageType = {
  PING: 1,
  PONG: 2,
  FINDNODE: 3,
  NODES: 4,
  TALKREQ: 5,
  TALKRESP: 6,
} as const;

export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const MAX_REQUEST_ID_SIZE = 8;

export interface PingMessage {
  type: typeof MessageType.PING;
  requestId: Uint8Array;
  enrSeq: bigint;
}

export interface PongMessage {
  type: typeof MessageType.PONG;
  requestId: Uint8Array;
  enrSeq: bigint;
  /** How the responder saw us: textual IP and port. */
  ip: string;
  port: number;
}

export interface FindNodeMessage {
  type: typeof MessageType.FINDNODE;
  requestId: Uint8Array;
  distances: number[];
}

export interface NodesMessage {
  type: typeof MessageType.NODES;
  requestId: Uint8Array;
  /** How many NODES messages make up the response. */
  total: number;
  /** Each record's RLP, not yet decoded or verified. */
  enrs: Uint8Array[];
}

export interface TalkReqMessage {
  type: typeof MessageType.TALKREQ;
  requestId: Uint8Array;
  protocol: Uint8Array;
  request: Uint8Array;
}

export interface TalkRespMessage {
  type: typeof MessageType.TALKRESP;
  requestId: Uint8Array;
  response: Uint8Array;
}

export type RequestMessage = PingMessage | FindNodeMessage | TalkReqMessage;
export type ResponseMessage = PongMessage | NodesMessage | TalkRespMessage;
export type Message = RequestMessage | ResponseMessage;

export function isRequest(m: Message): m is RequestMessage {
  return m.type === MessageType.PING || m.type === MessageType.FINDNODE || m.type === MessageType.TALKREQ;
}

/** Why a decrypted message was dropped. */
export type MessageDropReason = 'bad-message-rlp' | 'unknown-message-type' | 'bad-request-id' | 'bad-message-field';
