/** Message codecs: round trips, request ids of 0..8 bytes echoed exactly, strict integers, bad shapes dropped. */
import test from 'ava';
import { decodeMessage, encodeMessage } from '../ts/message/codec.js';
import { type Message, type MessageDropReason, MessageType, type NodesMessage } from '../ts/message/types.js';
import { encode as rlpEncode } from '../ts/rlp/rlp.js';
import { concatBytes, fromHex, toHex } from '../ts/util/bytes.js';
import { vectors } from './helpers/vectors.js';

const id = fromHex('00000001');

test('the spec plaintexts decode: PING with request id 00000001', (t) => {
  const m = decodeMessage(fromHex(vectors.packets.ping_message_packet.derived.message_plaintext));
  t.deepEqual(m, { type: MessageType.PING, requestId: id, enrSeq: 2n });
  t.is(toHex(encodeMessage(m as Message)), vectors.packets.ping_message_packet.derived.message_plaintext);
});

test('every message type round-trips', (t) => {
  const record = fromHex(vectors.enr.eip778_example.derived.rlp);
  const messages: Message[] = [
    { type: MessageType.PING, requestId: new Uint8Array(0), enrSeq: 0n },
    { type: MessageType.PONG, requestId: id, enrSeq: 0xffff_ffff_ffff_ffffn, ip: '203.0.113.9', port: 30303 },
    { type: MessageType.PONG, requestId: id, enrSeq: 1n, ip: '2001:db8::7', port: 0 },
    { type: MessageType.FINDNODE, requestId: new Uint8Array(8).fill(9), distances: [256, 255, 254, 0] },
    { type: MessageType.NODES, requestId: id, total: 1, enrs: [] },
    { type: MessageType.NODES, requestId: id, total: 3, enrs: [record, record] },
    {
      type: MessageType.TALKREQ,
      requestId: id,
      protocol: new TextEncoder().encode('portal'),
      request: new Uint8Array(600).fill(1),
    },
    { type: MessageType.TALKRESP, requestId: id, response: new Uint8Array(0) },
  ];
  for (const m of messages) t.deepEqual(decodeMessage(encodeMessage(m)), m);
});

test('request ids: up to 8 bytes, leading zeros kept; 9 bytes dropped', (t) => {
  const withZeros = decodeMessage(
    concatBytes(Uint8Array.of(1), rlpEncode([fromHex('0000000000000001'), new Uint8Array(0)])),
  );
  t.is(toHex((withZeros as Message).requestId), '0000000000000001');
  t.is(
    decodeMessage(concatBytes(Uint8Array.of(1), rlpEncode([new Uint8Array(9), new Uint8Array(0)]))),
    'bad-request-id',
  );
  t.is(decodeMessage(concatBytes(Uint8Array.of(5), rlpEncode([[id], id, id]))), 'bad-request-id');
});

test('malformed messages are drop reasons, never exceptions', (t) => {
  const m = (type: number, ...items: Parameters<typeof rlpEncode>[0][]) =>
    concatBytes(Uint8Array.of(type), rlpEncode(items));
  const cases: [Uint8Array, MessageDropReason][] = [
    [Uint8Array.of(1), 'bad-message-rlp'],
    [Uint8Array.of(0, 0xc0), 'unknown-message-type'],
    [Uint8Array.of(7, 0xc1, 0x80), 'unknown-message-type'],
    [concatBytes(Uint8Array.of(1), fromHex('c3')), 'bad-message-rlp'],
    [m(1, id, fromHex('0001')), 'bad-message-field'],
    [m(1, id, new Uint8Array(9).fill(1)), 'bad-message-field'],
    [m(2, id, Uint8Array.of(1), new Uint8Array(5), Uint8Array.of(1)), 'bad-message-field'],
    [m(2, id, Uint8Array.of(1), new Uint8Array(4), Uint8Array.of(1, 0, 0)), 'bad-message-field'],
    [m(3, id, [fromHex('0001')]), 'bad-message-field'],
    [m(3, id, [[id]]), 'bad-message-field'],
    [m(3, id, id), 'bad-message-field'],
    [m(4, id, Uint8Array.of(1), [id]), 'bad-message-field'],
    [m(5, id, id), 'bad-message-field'],
    [concatBytes(Uint8Array.of(1), fromHex('c0')), 'bad-message-rlp'],
    // NODES is read by spans (see decodeNodes): the same reasons as every other message.
    [concatBytes(Uint8Array.of(4), fromHex('c0')), 'bad-message-rlp'],
    [concatBytes(Uint8Array.of(4), fromHex('c3')), 'bad-message-rlp'],
    [concatBytes(Uint8Array.of(4), fromHex('80')), 'bad-message-rlp'],
    [concatBytes(m(4, id, Uint8Array.of(1), []), fromHex('00')), 'bad-message-rlp'],
    [m(4, [id], Uint8Array.of(1), []), 'bad-request-id'],
    [m(4, new Uint8Array(9), Uint8Array.of(1), []), 'bad-request-id'],
    [m(4, id), 'bad-message-field'],
    [m(4, id, fromHex('0001'), []), 'bad-message-field'],
    [m(4, id, [id], []), 'bad-message-field'],
    [m(4, id, Uint8Array.of(1)), 'bad-message-field'],
    [m(4, id, Uint8Array.of(1), id), 'bad-message-field'],
    [m(4, id, Uint8Array.of(1), [[id], id]), 'bad-message-field'],
    [fromHex('04c88400000001' + '01' + 'c3c0'), 'bad-message-rlp'],
  ];
  for (const [bytes, reason] of cases) t.is(decodeMessage(bytes), reason, toHex(bytes));
});

test('NODES records come out as copies of their own bytes, whatever their contents', (t) => {
  const record = fromHex(vectors.enr.eip778_example.derived.rlp);
  // The ENR decoder is what checks a record; the message layer passes each one on as it came.
  const odd = rlpEncode([Uint8Array.of(1, 2), [Uint8Array.of(3)]]);
  const plaintext = encodeMessage({ type: MessageType.NODES, requestId: id, total: 2, enrs: [record, odd] });
  const m = decodeMessage(plaintext) as NodesMessage;
  t.deepEqual(m.enrs, [record, odd]);
  t.not(m.enrs[0]?.buffer, plaintext.buffer, 'a copy, not a view that would pin the whole packet');
  const trailing = decodeMessage(concatBytes(Uint8Array.of(4), rlpEncode([id, Uint8Array.of(1), [], id])));
  t.deepEqual(trailing, { type: MessageType.NODES, requestId: id, total: 1, enrs: [] }, 'extra fields ignored');
});

test('extra trailing fields are ignored, for later protocol versions', (t) => {
  const m = decodeMessage(concatBytes(Uint8Array.of(1), rlpEncode([id, Uint8Array.of(5), fromHex('aabb')])));
  t.deepEqual(m, { type: MessageType.PING, requestId: id, enrSeq: 5n });
});

test('FINDNODE: distances over 256 are skipped, the valid ones kept (L1, as geth)', (t) => {
  const m = (...items: Parameters<typeof rlpEncode>[0][]) => concatBytes(Uint8Array.of(3), rlpEncode(items));
  const d = (n: number) => (n === 0 ? new Uint8Array(0) : fromHex(n.toString(16).padStart(n > 255 ? 4 : 2, '0')));
  const decoded = decodeMessage(m(id, [d(256), d(300), d(1), d(257), fromHex('01000000'), d(0)]));
  t.deepEqual(decoded, { type: MessageType.FINDNODE, requestId: id, distances: [256, 1, 0] });
  t.deepEqual(
    decodeMessage(m(id, [d(300)])),
    { type: MessageType.FINDNODE, requestId: id, distances: [] },
    'nothing valid: an empty list, answered with an empty NODES',
  );
});
