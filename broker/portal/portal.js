// The resident portal: sign in with one's own key (WebCrypto ECDSA P-256), list one's access
// records, and verify every record in the browser: the tree head's signature with the
// broker's key, that the tree head extends the last one this browser saw (RFC 9162
// consistency proof), and the record's RFC 9162 inclusion proof against that tree head.
// What a row shows is decoded from the very entry bytes whose inclusion was verified; the
// server's parsed copy of the record is never displayed.
'use strict';

const TEXT = {
  ja: {
    title: '自分の情報の利用履歴', residentId: '住民コード', keyFile: '利用者証明用の鍵ファイル',
    signIn: 'ログイン', agency: '機関', all: 'すべて', from: '期間（開始）', to: '期間（終了）',
    apply: '絞り込む', when: '日時', who: '利用した機関', what: '利用された情報', why: '目的',
    user: '担当者', outcome: '結果', verified: '検証', more: 'さらに表示',
    intro: 'どの機関が、いつ、何のために、あなたの情報を利用したかを確認できます。各記録はブラウザ内で暗号学的に検証されます。',
    ok: '検証済み', bad: '検証失敗', success: '提供', denied: '提供なし',
    none: '利用の記録はありません。', signingIn: 'ログインしています…', failed: 'ログインできませんでした: ',
    head: (n, t) => `署名付きツリーヘッド: ${n} 件 (${t})`, pending: (n) => `ほか ${n} 件は次のツリーヘッドで検証可能になります。`,
    hidden: 'この記録は検証できなかったため、内容を表示しません。',
    firstHead: 'このブラウザで初めて確認したツリーヘッドです。次回以降、履歴が書き換えられていないことの確認に使うため記憶しました。',
    consistent: (n) => `このブラウザが前回確認したツリーヘッド (${n} 件) からの一貫性: 検証済み。履歴は追記のみで、書き換えられていません。`,
    inconsistent: (n) => `警告: このツリーヘッドは、このブラウザが以前に確認したツリーヘッド (${n} 件) と一貫していません (検証失敗)。履歴が書き換えられた可能性があるため、記録を検証済みとしては扱いません。`,
    fingerprint: 'ツリーヘッド署名鍵のフィンガープリント (SHA-256): ',
    compare: ' — 公表されている値と一致することを確認してください。',
  },
  en: {
    title: 'Who used my data', residentId: 'Resident code', keyFile: 'Your sign-in key file',
    signIn: 'Sign in', agency: 'Agency', all: 'All', from: 'From', to: 'To', apply: 'Filter',
    when: 'Date and time', who: 'Agency', what: 'Data used', why: 'Purpose', user: 'Official',
    outcome: 'Outcome', verified: 'Verified', more: 'Show more',
    intro: 'See which agency used your data, when, and why. Every record is verified cryptographically in your browser.',
    ok: 'Verified', bad: 'Verification failed', success: 'provided', denied: 'not provided',
    none: 'No use of your data is recorded.', signingIn: 'Signing in…', failed: 'Sign-in failed: ',
    head: (n, t) => `Signed tree head: ${n} entries (${t})`, pending: (n) => `${n} more will be verifiable with the next tree head.`,
    hidden: 'This record could not be verified, so its contents are not shown.',
    firstHead: 'This browser sees this log for the first time; it remembers this tree head to check next time that the history was not rewritten.',
    consistent: (n) => `Consistent with the tree head this browser saw before (${n} entries): verified. The history was only appended to, never rewritten.`,
    inconsistent: (n) => `Warning: this tree head is not consistent with the one this browser saw before (${n} entries) (verification failed). The history may have been rewritten, so no record is treated as verified.`,
    fingerprint: 'Tree-head signing key fingerprint (SHA-256): ',
    compare: ' — check that it matches the published value.',
  },
};

// Data named in human words, where the schema's methods are known.
const DATA_NAMES = {
  '/renkei.municipal.v1.ResidentRegistry/GetResident': {
    ja: '住民基本台帳の記載事項（氏名・生年月日・住所・世帯）',
    en: 'Resident registry entry (name, birth date, address, household)',
  },
  '/renkei.municipal.v1.ChildAllowance/CheckEligibility': {
    ja: '児童手当の受給資格', en: 'Child allowance eligibility',
  },
};

// The last verified tree head this browser saw, per broker origin (localStorage is per origin).
const SEEN_HEAD_KEY = 'renkei.seenTreeHead.v1';

let lang = 'ja';
let session = null;
let nextPageToken = '';
let treeHeadKey = null;
let treeHeadKeyFingerprint = '';
// The last check: {state: 'first'|'consistent'|'inconsistent', seenSize, head: 'size/root'}.
let consistency = null;
let memberNames = {};

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key];

function setLanguage(next) {
  lang = next;
  document.documentElement.lang = next;
  $('lang-ja').setAttribute('aria-pressed', String(next === 'ja'));
  $('lang-en').setAttribute('aria-pressed', String(next === 'en'));
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  document.title = (next === 'ja' ? '連携 — ' : 'Renkei — ') + t('title');
  renderTrust();
  for (const row of document.querySelectorAll('#records tbody tr')) renderRow(row, row.shown);
}

// The SubjectPublicKeyInfo of an X.509 certificate (DER), found by walking the structure:
// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
// signature, issuer, validity, subject, subjectPublicKeyInfo, ... }, ... }.
function subjectPublicKeyInfo(der) {
  // Returns [start of contents, end of contents, end of element] of the element at `at`.
  const element = (at) => {
    let length = der[at + 1];
    let contents = at + 2;
    if (length & 0x80) {
      const bytes = length & 0x7f;
      if (bytes < 1 || bytes > 3) throw new Error('unsupported certificate encoding');
      length = 0;
      for (let i = 0; i < bytes; ++i) length = length * 256 + der[contents + i];
      contents += bytes;
    }
    if (contents + length > der.length) throw new Error('truncated certificate');
    return [contents, contents + length, contents + length];
  };
  const [tbs] = element(0);
  let at = tbs;
  if (der[at] !== 0x30) throw new Error('malformed certificate');
  at = element(at)[0];                    // inside tbsCertificate
  if (der[at] === 0xa0) at = element(at)[2];  // version
  for (let skip = 0; skip < 5; ++skip) at = element(at)[2];  // serial .. subject
  if (der[at] !== 0x30) throw new Error('malformed certificate');
  return der.slice(at, element(at)[2]);
}

const b64 = {
  decode: (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0)),
  encode: (bytes) => btoa(String.fromCharCode(...bytes)),
};

function pemToDer(pem) {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return b64.decode(body);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(json.error || response.statusText);
  return json;
}

async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const isHash = (h) => h instanceof Uint8Array && h.length === 32;

// RFC 9162 §2.1.3.2, with BigInt so that indexes past 2^32 are exact.
async function verifyInclusion(entry, index, size, proof, root) {
  let fn = BigInt(index), sn = BigInt(size) - 1n;
  if (fn > sn || !proof.every(isHash)) return false;
  let r = await leafHash(entry);
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

// RFC 9162 §2.1.4.2: the tree of `second` entries with root `secondHash` extends the tree of
// `first` entries with root `firstHash`. Sizes are BigInts.
async function verifyConsistency(first, second, firstHash, secondHash, proof) {
  if (first > second || !isHash(firstHash) || !isHash(secondHash) || !proof.every(isHash)) return false;
  if (first === second) return proof.length === 0 && equal(firstHash, secondHash);
  if (first === 0n) return proof.length === 0;  // the empty tree is a prefix of every tree
  if (proof.length === 0) return false;
  const path = (first & (first - 1n)) === 0n ? [firstHash, ...proof] : proof;
  let fn = first - 1n, sn = second - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && equal(fr, firstHash) && equal(sr, secondHash);
}

// Protobuf wire format, as much as AccessRecord needs. Throws on malformed input.
class WireReader {
  constructor(bytes) { this.bytes = bytes; this.pos = 0; }
  get done() { return this.pos >= this.bytes.length; }
  varint() {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.done) throw new Error('truncated varint');
      const byte = this.bytes[this.pos++];
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, value);
    }
    throw new Error('varint longer than 10 bytes');
  }
  take(length) {
    if (length > this.bytes.length - this.pos) throw new Error('truncated field');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  lengthDelimited() {
    const length = this.varint();
    if (length > BigInt(this.bytes.length - this.pos)) throw new Error('truncated field');
    return this.take(Number(length));
  }
  // The next field's number and wire type.
  tag() {
    const tag = this.varint();
    const field = tag >> 3n;
    if (field === 0n || field > 0x1fffffffn) throw new Error('bad field number');
    return [Number(field), Number(tag & 7n)];
  }
  skip(wireType) {
    switch (wireType) {
      case 0: this.varint(); break;
      case 1: this.take(8); break;
      case 2: this.lengthDelimited(); break;
      case 5: this.take(4); break;
      default: throw new Error(`unsupported wire type ${wireType}`);  // groups: not in our schemas
    }
  }
}

const VARINT = 0, LEN = 2;
// Strings exactly as encoded: invalid UTF-8 is malformed, a leading BOM is kept.
const utf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true});

// google.protobuf.Timestamp, merged into `time` as protobuf merges repeated message fields.
function decodeTimestamp(bytes, time) {
  const reader = new WireReader(bytes);
  while (!reader.done) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === VARINT) time.seconds = BigInt.asIntN(64, reader.varint());
    else if (field === 2 && wireType === VARINT) time.nanos = Number(BigInt.asIntN(32, reader.varint()));
    else if (field === 1 || field === 2) throw new Error('timestamp field of the wrong type');
    else reader.skip(wireType);
  }
}

// A renkei.v1.AccessRecord (schemas/renkei/v1/ledger.proto) from its serialized bytes: the
// ledger entry itself. Unknown fields are skipped; anything malformed throws.
function decodeAccessRecord(bytes) {
  const strings = {1: 'messageId', 3: 'client', 4: 'service', 5: 'method', 6: 'purpose', 7: 'user',
                   12: 'recordedBy'};
  const record = {messageId: '', client: '', service: '', method: '', purpose: '', user: '',
                  recordedBy: '', subjectPseudonyms: [], outcome: 0,
                  requestHeaderSha256: new Uint8Array(0), responseHeaderSha256: new Uint8Array(0)};
  const time = {seconds: 0n, nanos: 0};
  const reader = new WireReader(bytes);
  while (!reader.done) {
    const [field, wireType] = reader.tag();
    const known = field >= 1 && field <= 12;
    const expected = field === 9 ? VARINT : LEN;
    if (!known) { reader.skip(wireType); continue; }
    if (wireType !== expected) throw new Error(`field ${field} has wire type ${wireType}`);
    if (field in strings) record[strings[field]] = utf8.decode(reader.lengthDelimited());
    else if (field === 2) decodeTimestamp(reader.lengthDelimited(), time);
    else if (field === 8) record.subjectPseudonyms.push(reader.lengthDelimited().slice());
    else if (field === 9) record.outcome = Number(BigInt.asIntN(32, reader.varint()));
    else if (field === 10) record.requestHeaderSha256 = reader.lengthDelimited().slice();
    else if (field === 11) record.responseHeaderSha256 = reader.lengthDelimited().slice();
  }
  // Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
  if (time.seconds < -62135596800n || time.seconds > 253402300799n || time.nanos < 0 ||
      time.nanos > 999999999) {
    throw new Error('timestamp out of range');
  }
  record.timeMs = Number(time.seconds) * 1000 + Math.floor(time.nanos / 1e6);
  return record;
}

function u64(value) {
  const bytes = new Uint8Array(8);
  let v = BigInt.asUintN(64, BigInt(value));
  for (let i = 7; i >= 0; i--) { bytes[i] = Number(v & 0xffn); v >>= 8n; }
  return bytes;
}

// DER ECDSA signature to the 64-byte r||s WebCrypto verifies.
function derToRaw(der) {
  let offset = 2;
  const read = () => {
    offset++;  // INTEGER tag
    const length = der[offset++];
    let value = der.slice(offset, offset + length);
    offset += length;
    while (value.length > 32 && value[0] === 0) value = value.slice(1);
    const padded = new Uint8Array(32);
    padded.set(value, 32 - value.length);
    return padded;
  };
  return concat(read(), read());
}

// The typed signing input of audit/tree_head.h: "renkei/v1 tree-head" || 0x00 ||
// size (u64 BE) || timestamp_ms (u64 BE) || root (32 bytes).
function treeHeadSigningInput(head) {
  return concat(new TextEncoder().encode('renkei/v1 tree-head'), Uint8Array.of(0),
                u64(head.treeSize || 0), u64(head.timestampMs || 0), b64.decode(head.rootHash || ''));
}

async function verifyTreeHead(head) {
  try {
    if (b64.decode(head.rootHash || '').length !== 32) return false;
    return await crypto.subtle.verify({name: 'ECDSA', hash: 'SHA-256'}, treeHeadKey,
                                      derToRaw(b64.decode(head.signature || '')),
                                      treeHeadSigningInput(head));
  } catch (error) {
    return false;
  }
}

function loadSeenHead() {
  try {
    const seen = JSON.parse(localStorage.getItem(SEEN_HEAD_KEY));
    if (seen && /^\d+$/.test(seen.size) && typeof seen.root === 'string') {
      return {size: BigInt(seen.size), root: b64.decode(seen.root)};
    }
  } catch (error) { /* none, or unreadable: as if none */ }
  return null;
}

function storeSeenHead(size, root) {
  try {
    localStorage.setItem(SEEN_HEAD_KEY, JSON.stringify({size: size.toString(), root: b64.encode(root)}));
  } catch (error) { /* storage unavailable: the next visit is a first one again */ }
}

async function fetchConsistencyProof(from, to) {
  const response = await fetch(`/api/consistency-proof?from=${from}&to=${to}`);
  const json = await response.json();
  if (!response.ok) throw new Error(json.error || response.statusText);
  return (json.proof || []).map(b64.decode);
}

// Checks that `head` (signature already verified) and the last head this browser saw are
// one append-only log, and remembers `head` once it is shown to extend the one seen.
async function checkConsistency(head) {
  const size = BigInt(head.treeSize || 0);
  const root = b64.decode(head.rootHash);
  const seen = loadSeenHead();
  if (!seen) {
    storeSeenHead(size, root);
    return {state: 'first'};
  }
  // An older head than the one seen (a stale answer) must be a prefix of it.
  const [first, firstRoot, second, secondRoot] =
      seen.size <= size ? [seen.size, seen.root, size, root] : [size, root, seen.size, seen.root];
  let ok = false;
  try {
    const proof = first === second ? [] : await fetchConsistencyProof(first, second);
    ok = await verifyConsistency(first, second, firstRoot, secondRoot, proof);
  } catch (error) {
    ok = false;
  }
  if (ok && size > seen.size) storeSeenHead(size, root);
  return {state: ok ? 'consistent' : 'inconsistent', seenSize: seen.size};
}

// The tree-head key's fingerprint and the consistency verdict, in the current language.
function renderTrust() {
  const fingerprint = $('key-fingerprint');
  if (treeHeadKeyFingerprint) {
    const code = document.createElement('code');
    code.textContent = treeHeadKeyFingerprint;
    fingerprint.replaceChildren(t('fingerprint'), code, t('compare'));
  }
  const line = $('consistency');
  const warning = consistency !== null && consistency.state === 'inconsistent';
  line.className = warning ? 'warning' : '';
  line.setAttribute('role', warning ? 'alert' : 'status');
  if (!consistency) line.textContent = '';
  else if (consistency.state === 'first') line.textContent = t('firstHead');
  else line.textContent = t(consistency.state)(String(consistency.seenSize));
}

// `shown`: {record (decoded from the verified entry bytes, or null), verified}.
function renderRow(row, shown) {
  const cell = (text) => { const td = document.createElement('td'); td.textContent = text; return td; };
  const mark = document.createElement('td');
  mark.className = shown.verified ? 'verified' : 'unverified';
  mark.textContent = shown.verified ? `✓ ${t('ok')}` : `✗ ${t('bad')}`;
  if (!shown.verified || !shown.record) {
    const notice = cell(t('hidden'));
    notice.colSpan = 6;
    row.replaceChildren(notice, mark);
    return;
  }
  const r = shown.record;
  const clientMember = r.client.split('/').slice(0, 3).join('/');
  const name = memberNames[clientMember] || clientMember;
  const data = DATA_NAMES[r.method] ? DATA_NAMES[r.method][lang] : r.method;
  const when = new Date(r.timeMs).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', {timeZone: 'Asia/Tokyo'});
  const cells = [when, `${name} (${r.client})`, data, r.purpose, r.user || '—',
                 r.outcome === 0 ? t('success') : `${t('denied')} (${r.outcome})`];
  row.replaceChildren(...cells.map(cell), mark);
}

// One record of a page: decoded from, and verified as, the exact `entry` bytes.
async function proveRecord(proven, head, headOk) {
  let entry, record, verified = false;
  try {
    entry = b64.decode(proven.entry || '');
    record = decodeAccessRecord(entry);
  } catch (error) {
    return {record: null, verified: false};  // malformed: never verified, nothing to show
  }
  try {
    const proof = (proven.inclusionProof || []).map(b64.decode);
    verified = headOk && await verifyInclusion(entry, proven.leafIndex || 0, head.treeSize || 0,
                                               proof, b64.decode(head.rootHash));
  } catch (error) {
    verified = false;
  }
  return {record, verified};
}

async function loadPage(reset) {
  const request = {sessionToken: session, pageSize: 20, pageToken: reset ? '' : nextPageToken};
  if ($('agency').value) request.clientMember = $('agency').value;
  if ($('from').value) request.from = `${$('from').value}T00:00:00+09:00`;
  if ($('to').value) request.to = `${$('to').value}T23:59:59.999+09:00`;
  const {response, memberNames: names} = await post('/api/records', request);
  memberNames = names;
  const agency = $('agency');
  if (agency.options.length === 1) {
    for (const [id, name] of Object.entries(names)) agency.add(new Option(`${name} (${id})`, id));
  }
  const head = response.treeHead || {};
  const signatureOk = await verifyTreeHead(head);
  // Only a head signed by the broker's key is compared with, or remembered as, the head seen.
  // The verdict on a head stands for the further pages and filters it is shown with.
  const headId = `${head.treeSize || 0}/${head.rootHash}`;
  if (!signatureOk) consistency = null;
  else if (!consistency || consistency.head !== headId) {
    consistency = {...await checkConsistency(head), head: headId};
  }
  const headOk = signatureOk && consistency.state !== 'inconsistent';
  $('tree-head').textContent = t('head')(head.treeSize || 0, headOk ? t('ok') : t('bad')) +
      (response.pending ? ' ' + t('pending')(response.pending) : '');
  renderTrust();
  const shown = await Promise.all((response.records || []).map((p) => proveRecord(p, head, headOk)));
  // The page's rows appear together, once all are checked.
  const body = document.querySelector('#records tbody');
  if (reset) body.replaceChildren();
  for (const item of shown) {
    const row = document.createElement('tr');
    row.shown = item;
    renderRow(row, item);
    body.append(row);
  }
  nextPageToken = response.nextPageToken || '';
  $('more').hidden = !nextPageToken;
  $('message').textContent = body.children.length ? '' : t('none');
}

async function signIn(event) {
  event.preventDefault();
  const message = $('message');
  message.className = '';
  message.textContent = t('signingIn');
  try {
    const residentId = $('resident-id').value.trim();
    const pem = await $('key-file').files[0].text();
    const key = await crypto.subtle.importKey('pkcs8', pemToDer(pem), {name: 'ECDSA', namedCurve: 'P-256'},
                                              false, ['sign']);
    const {challenge} = await post('/api/challenge', {residentId});
    const signature = new Uint8Array(await crypto.subtle.sign({name: 'ECDSA', hash: 'SHA-256'}, key,
                                                              b64.decode(challenge)));
    const {sessionToken} = await post('/api/sign-in', {residentId, challenge, signature: b64.encode(signature)});
    session = sessionToken;
    const certificate = b64.decode((await (await fetch('/api/tree-head-key')).json()).certificate);
    treeHeadKey = await crypto.subtle.importKey('spki', subjectPublicKeyInfo(certificate),
                                                {name: 'ECDSA', namedCurve: 'P-256'}, false, ['verify']);
    // What a resident compares with the broker's published anchor: the SHA-256 of the very
    // certificate whose key checks the tree heads, as `renkeictl pki fingerprint` prints it.
    treeHeadKeyFingerprint = hex(await sha256(certificate));
    $('sign-in-form').hidden = true;
    $('history').hidden = false;
    await loadPage(true);
  } catch (error) {
    message.className = 'error';
    message.textContent = t('failed') + error.message;
  }
}

$('sign-in-form').addEventListener('submit', signIn);
$('filters').addEventListener('submit', (e) => { e.preventDefault(); loadPage(true); });
$('more').addEventListener('click', () => loadPage(false));
$('lang-ja').addEventListener('click', () => setLanguage('ja'));
$('lang-en').addEventListener('click', () => setLanguage('en'));
setLanguage('ja');
