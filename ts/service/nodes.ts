/**
 * Packing a FINDNODE answer: records go into NODES messages of at most `recordBytes` bytes of
 * records each (geth's 1,000: 5-6 typical records per packet rather than the rival's 3), every
 * message carrying the same total; no records at all is one NODES with total 1 and an empty list.
 */
import { MessageType, type NodesMessage } from '../message/types.js';

export function packNodes(requestId: Uint8Array, records: Uint8Array[], recordBytes: number): NodesMessage[] {
  const groups: Uint8Array[][] = [[]];
  let size = 0;
  for (const r of records) {
    const current = groups[groups.length - 1] as Uint8Array[];
    if (current.length > 0 && size + r.length > recordBytes) {
      groups.push([r]);
      size = r.length;
    } else {
      current.push(r);
      size += r.length;
    }
  }
  return groups.map((enrs) => ({ type: MessageType.NODES, requestId, total: groups.length, enrs }));
}
