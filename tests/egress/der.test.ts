import t from 'tap';
import { bitString, boolean, explicit, implicit, integer, octetString, oid, sequence, set, time, utf8String } from '../../runtime/egress/certificates/der.ts';

const hex = (buffer: Buffer): string => buffer.toString('hex');

t.test('integer encodes the minimal two’s complement of a non-negative value', async (t) => {
  t.equal(hex(integer(0)), '020100');
  t.equal(hex(integer(2)), '020102');
  t.equal(hex(integer(127)), '02017f');
  t.equal(hex(integer(128)), '02020080', 'a set top bit gets a zero byte in front, so it stays positive');
  t.equal(hex(integer(256)), '02020100');
  t.equal(hex(integer(Buffer.from([0, 0, 0x12, 0x34]))), '02021234', 'leading zero bytes of a magnitude are dropped');
  t.equal(hex(integer(Buffer.from([0xff, 0x01]))), '020300ff01');
  t.equal(hex(integer(Buffer.from([0, 0]))), '020100');
  t.throws(() => integer(-1), RangeError);
});

t.test('lengths use the short form under 128 and the fewest long-form bytes above', async (t) => {
  t.equal(hex(octetString(Buffer.alloc(127)).subarray(0, 2)), '047f');
  t.equal(hex(octetString(Buffer.alloc(128)).subarray(0, 3)), '048180');
  t.equal(hex(octetString(Buffer.alloc(300)).subarray(0, 4)), '0482012c');
  t.equal(octetString(Buffer.alloc(70_000)).length, 70_000 + 5);
});

t.test('oid joins the first two arcs and writes the rest in base 128', async (t) => {
  t.equal(hex(oid('2.5.4.3')), '0603550403');
  t.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302', 'ecdsa-with-SHA256');
  t.equal(hex(oid('1.3.6.1.5.5.7.3.1')), '06082b06010505070301', 'serverAuth');
  t.throws(() => oid('1'), RangeError);
  t.throws(() => oid('1.x.3'), RangeError);
});

t.test('time is UTCTime up to 2049 and GeneralizedTime from 2050, to the second', async (t) => {
  t.equal(time(new Date('2026-12-03T10:56:34.789Z')).toString('latin1'), '\x17\x0d261203105634Z');
  t.equal(time(new Date('1999-01-02T03:04:05Z')).toString('latin1'), '\x17\x0d990102030405Z');
  t.equal(time(new Date('2050-01-01T00:00:00Z')).toString('latin1'), '\x18\x0f20500101000000Z');
});

t.test('set sorts its elements by encoding; the other constructors nest as given', async (t) => {
  t.equal(hex(set(integer(2), integer(1))), '3106020101020102');
  t.equal(hex(sequence(integer(2), integer(1))), '3006020102020101');
  t.equal(hex(sequence()), '3000');
  t.equal(hex(boolean(true)), '0101ff');
  t.equal(hex(boolean(false)), '010100');
  t.equal(hex(bitString(Buffer.from([0x06]), 1)), '03020106');
  t.equal(hex(utf8String('é')), '0c02c3a9');
  t.equal(hex(explicit(0, integer(2))), 'a003020102');
  t.equal(hex(implicit(2, Buffer.from('a'))), '820161');
});
